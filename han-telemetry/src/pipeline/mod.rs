//! Running telemetry (which [`crate::start`] builds from a [`Config`](crate::config::Config)):
//! the tracing layer that carries the instruments and the local store to
//! every recording call ([`layer`]), the resource, the trace a process joins ([`context`]), the
//! events' export queue ([`queue`]) and the metrics' reader ([`reader`]), and the bounded flush
//! at exit ([`guard`]), which runs their last exports ([`last`]) on the export's I/O runtime.

pub(crate) mod batched;
pub(crate) mod context;
pub(crate) mod guard;
pub(crate) mod last;
pub(crate) mod layer;
pub(crate) mod queue;
pub(crate) mod reader;
pub(crate) mod resource;

pub(crate) use layer::{Pipeline, is_open, scope, with_current};
