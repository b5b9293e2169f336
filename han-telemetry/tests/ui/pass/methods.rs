use han_telemetry::instrument_hook;

struct Linter {
    runs: u32,
}

impl Linter {
    #[instrument_hook(hook_type = "PostToolUse", hook_name = "lint")]
    fn by_ref(&self) -> u32 {
        self.runs
    }

    #[instrument_hook(hook_type = "PostToolUse")]
    fn by_mut(&mut self) {
        self.runs += 1;
    }

    #[instrument_hook(hook_type = "PostToolUse")]
    fn by_value(self) -> u32 {
        self.runs
    }

    #[instrument_hook(hook_type = "PostToolUse")]
    fn returns_borrow(&self, name: &str) -> &u32 {
        let _ = name;
        &self.runs
    }
}

fn main() {
    let mut l = Linter { runs: 0 };
    l.by_mut();
    assert_eq!(l.by_ref(), 1);
    assert_eq!(*l.returns_borrow("x"), 1);
    assert_eq!(l.by_value(), 1);
}
