//! What the annotations expand into and what code no annotation reaches calls: a call's
//! timing, outcome and span ([`call`](self)), the per-call-site bound instruments (`site`), the
//! typed recording functions ([`record`]), values a body reports ([`report`]), and joining the
//! trace of the process (`trace`).

pub(crate) mod call;
pub mod record;
pub mod report;
pub(crate) mod site;
pub(crate) mod trace;
