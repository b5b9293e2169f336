//! A fake Anthropic Messages API on a loopback port, so a real Claude Code session
//! ([`crate::claude_code`]) runs offline: `ANTHROPIC_BASE_URL` names it, any API key does.
//!
//! The model's side of the conversation is a script of [`Turn`]s. Each `POST /v1/messages`
//! (Claude Code sends `?beta=true`) is answered with the first turn whose predecessor's tool
//! result the conversation does not hold yet, streamed as the real API streams it: server-sent
//! events `message_start`, `content_block_start`, `content_block_delta` (`input_json_delta`
//! with the whole tool input, or `text_delta`), `content_block_stop`, `message_delta` with the
//! stop reason (`tool_use`, `end_turn`), `message_stop`. The last turn is text, which ends the
//! session. `POST /v1/messages/count_tokens` gets `{"input_tokens":1}`; anything else `200`.
//!
//! It is an [`HttpServer`] with one rule per turn ([`When::BodyContains`] the previous turn's
//! tool-use id), so every request is recorded with its body: [`MessagesApi::requests`] gives
//! what the model was sent, as JSON.

use serde_json::{Value, json};

use crate::http_server::{Answer, Body, HttpServer, Rule, When};

/// The Messages API path (the query Claude Code adds is not part of it).
pub const MESSAGES_PATH: &str = "/v1/messages";
const COUNT_TOKENS_PATH: &str = "/v1/messages/count_tokens";

/// One answer of the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// The model calls the tool `name` with `input` (one `tool_use` block, `stop_reason`
    /// `tool_use`).
    Tool { name: String, input: Value },
    /// The model answers with `text` and ends its turn (`stop_reason` `end_turn`).
    Text(String),
}

impl Turn {
    /// A `Write` of `content` to `file_path`.
    pub fn write(file_path: impl Into<String>, content: impl Into<String>) -> Turn {
        Turn::Tool {
            name: "Write".to_owned(),
            input: json!({"file_path": file_path.into(), "content": content.into()}),
        }
    }

    pub fn text(text: impl Into<String>) -> Turn {
        Turn::Text(text.into())
    }
}

/// The tool-use id the fake gives the tool call of turn `index`.
pub fn tool_use_id(index: usize) -> String {
    format!("toolu_hanfake_{index:02}")
}

/// A running fake; dropping it stops it.
#[derive(Debug)]
pub struct MessagesApi {
    server: HttpServer,
}

impl MessagesApi {
    /// A fake that plays `turns`. Panics unless the last turn, and only it, is text (a tool
    /// call after it would never be asked for; a script ending in a tool call never ends).
    pub fn scripted(turns: Vec<Turn>) -> MessagesApi {
        let texts: Vec<usize> = (0..turns.len())
            .filter(|&i| matches!(turns[i], Turn::Text(_)))
            .collect();
        assert_eq!(
            texts,
            [turns.len().saturating_sub(1)],
            "a script is tool calls followed by one text turn: {turns:?}"
        );
        let mut rules = vec![Rule::new(
            When::Path(COUNT_TOKENS_PATH.to_owned()),
            Answer::with_body(
                200,
                Body::Typed {
                    content_type: "application/json".to_owned(),
                    text: r#"{"input_tokens":1}"#.to_owned(),
                },
            ),
        )];
        // Latest first: a conversation holding turn i-1's result is past every earlier turn.
        for (index, turn) in turns.iter().enumerate().rev() {
            let mut when = vec![When::Path(MESSAGES_PATH.to_owned())];
            if index > 0 {
                when.push(When::BodyContains(format!(
                    "\"{}\"",
                    tool_use_id(index - 1)
                )));
            }
            rules.push(Rule::new(
                When::All(when),
                Answer::with_body(
                    200,
                    Body::Typed {
                        content_type: "text/event-stream".to_owned(),
                        text: event_stream(index, turn),
                    },
                ),
            ));
        }
        MessagesApi {
            server: HttpServer::start(rules),
        }
    }

    /// `http://127.0.0.1:PORT`, for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        self.server.endpoint()
    }

    /// Every `POST /v1/messages` so far, in arrival order, with its body as JSON. Panics on
    /// a body that is not JSON.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == MESSAGES_PATH)
            .map(|r| {
                let body = r.body.unwrap_or_default();
                let body = serde_json::from_slice(&body).unwrap_or_else(|e| {
                    panic!(
                        "a Messages API request that is not JSON ({e}): {}",
                        String::from_utf8_lossy(&body)
                    )
                });
                ModelRequest { body }
            })
            .collect()
    }
}

/// One request to the Messages API: what the model was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    pub body: Value,
}

/// A text the model was sent, and the role of the message that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// `user`, `assistant`, or `system` (Claude Code puts hook messages in `system` messages).
    pub role: String,
    /// The text of a string content, a `text` block, or a `tool_result`'s content.
    pub text: String,
}

impl ModelRequest {
    /// The messages, in order.
    pub fn messages(&self) -> &[Value] {
        self.body["messages"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
    }

    /// Every text of every message, in order (the top-level `system` prompt is not one).
    pub fn texts(&self) -> Vec<Said> {
        let mut said = Vec::new();
        for message in self.messages() {
            let role = message["role"].as_str().unwrap_or_default().to_owned();
            let mut push = |text: &str| {
                said.push(Said {
                    role: role.clone(),
                    text: text.to_owned(),
                });
            };
            collect_texts(&message["content"], &mut push);
        }
        said
    }

    /// The ids of the tool results the conversation holds, in order.
    pub fn tool_results(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter_map(|m| m["content"].as_array())
            .flatten()
            .filter(|block| block["type"] == "tool_result")
            .filter_map(|block| block["tool_use_id"].as_str().map(str::to_owned))
            .collect()
    }
}

fn collect_texts(content: &Value, push: &mut impl FnMut(&str)) {
    match content {
        Value::String(text) => push(text),
        Value::Array(blocks) => {
            for block in blocks {
                match block["type"].as_str() {
                    Some("text") => push(block["text"].as_str().unwrap_or_default()),
                    Some("tool_result") => collect_texts(&block["content"], push),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The server-sent events of one streamed answer.
fn event_stream(index: usize, turn: &Turn) -> String {
    let (block, delta, stop_reason) = match turn {
        Turn::Tool { name, input } => (
            json!({"type": "tool_use", "id": tool_use_id(index), "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            "tool_use",
        ),
        Turn::Text(text) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": text}),
            "end_turn",
        ),
    };
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {
                "id": format!("msg_hanfake_{index:02}"),
                "type": "message",
                "role": "assistant",
                "model": "claude-fake",
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            }}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": block}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta",
                   "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                   "usage": {"output_tokens": 5}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_client::post_for_content_type;

    /// The data of every event in `stream`, by event name.
    fn events(stream: &[u8]) -> Vec<(String, Value)> {
        let text = std::str::from_utf8(stream).expect("UTF-8 events");
        text.split_terminator("\n\n")
            .map(|event| {
                let (name, data) = event.split_once('\n').expect("event and data lines");
                let name = name.strip_prefix("event: ").expect("an event line");
                let data = data.strip_prefix("data: ").expect("a data line");
                (
                    name.to_owned(),
                    serde_json::from_str(data).expect("JSON data"),
                )
            })
            .collect()
    }

    fn ask(api: &MessagesApi, body: Value) -> Vec<(String, Value)> {
        let port = api.server.port();
        let (status, content_type, stream) = post_for_content_type(
            port,
            "/v1/messages?beta=true",
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .expect("an answer");
        assert_eq!((status, content_type.as_str()), (200, "text/event-stream"));
        events(&stream)
    }

    #[test]
    fn the_script_is_played_by_the_tool_results_the_conversation_holds() {
        let api = MessagesApi::scripted(vec![
            Turn::write("/p/a.txt", "a\n"),
            Turn::write("/p/b.txt", "b\n"),
            Turn::text("done"),
        ]);
        let first = ask(
            &api,
            json!({"messages": [{"role": "user", "content": "go"}]}),
        );
        let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(first[1].1["content_block"]["name"], "Write");
        assert_eq!(first[1].1["content_block"]["id"], tool_use_id(0));
        let input: Value = serde_json::from_str(
            first[2].1["delta"]["partial_json"]
                .as_str()
                .expect("partial JSON"),
        )
        .expect("the whole input");
        assert_eq!(input, json!({"file_path": "/p/a.txt", "content": "a\n"}));
        assert_eq!(first[4].1["delta"]["stop_reason"], "tool_use");

        let result = |id: usize| json!({"type": "tool_result", "tool_use_id": tool_use_id(id), "content": "ok"});
        let second = ask(
            &api,
            json!({"messages": [{"role": "user", "content": [result(0)]}]}),
        );
        assert_eq!(second[1].1["content_block"]["id"], tool_use_id(1));
        let last = ask(
            &api,
            json!({"messages": [
                {"role": "user", "content": [result(0)]},
                {"role": "user", "content": [result(1)]},
                {"role": "system", "content": [{"type": "text", "text": "a hook said"}]},
            ]}),
        );
        assert_eq!(
            last[2].1["delta"],
            json!({"type": "text_delta", "text": "done"})
        );
        assert_eq!(last[4].1["delta"]["stop_reason"], "end_turn");

        let requests = api.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2].tool_results(), [tool_use_id(0), tool_use_id(1)]);
        let said = requests[2].texts();
        assert_eq!(
            said.last(),
            Some(&Said {
                role: "system".to_owned(),
                text: "a hook said".to_owned()
            })
        );
        assert_eq!(said[0].text, "ok", "a tool result's content is a text");
    }

    #[test]
    fn count_tokens_gets_a_count() {
        let api = MessagesApi::scripted(vec![Turn::text("done")]);
        let answer =
            post_for_content_type(api.server.port(), COUNT_TOKENS_PATH, &[], b"{}".to_vec());
        assert_eq!(
            answer,
            Some((
                200,
                "application/json".to_owned(),
                br#"{"input_tokens":1}"#.to_vec()
            ))
        );
        assert!(api.requests().is_empty(), "not a Messages request");
    }

    #[test]
    #[should_panic(expected = "a script is tool calls followed by one text turn")]
    fn a_script_must_end_in_text() {
        let _ = MessagesApi::scripted(vec![Turn::write("/p/a.txt", "a\n")]);
    }
}
