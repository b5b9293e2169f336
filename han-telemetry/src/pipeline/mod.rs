//! Running telemetry (which [`crate::start`] builds from a [`Config`](crate::config::Config)):
//! the tracing layer that carries the instruments and the local store to
//! every recording call ([`layer`]), the resource, the trace a process joins ([`context`]), and
//! the bounded flush at exit ([`guard`]).

pub(crate) mod context;
pub(crate) mod guard;
pub(crate) mod layer;
pub(crate) mod queue;
pub(crate) mod resource;

pub(crate) use layer::{Pipeline, is_open, scope, with_current};
