//! The agent console: web pages for bank staff, served by the gateway.
//!
//! Staff sign in with an account made by `strongroom-gateway staff add`
//! (`staff.rs`). The session cookie is `__Host-console` (Secure, HttpOnly,
//! SameSite=Strict, path /), and every form carries the session's CSRF
//! token as well; a sign-in form carries a one-time token. Pages are plain
//! HTML under the same strict headers as the customers' verification page,
//! written as templates that escape every value (`crate::page`): a
//! customer's message is text, never markup. The queue and conversation
//! pages load one script of ours (`/console/live.js`, `script-src 'self'`)
//! that follows `/console/events` (server-sent events), so new messages
//! appear without a reload by hand. Every action is in the audit log.
//!
//! What is here: sign-in and sign-out, the queue of open conversations
//! (newest waiting first), a conversation with its reply form, resolving
//! a conversation, composing a signed alert to the customer, each alert's
//! delivery (delivered, acknowledged and answered, with times), and for
//! admins the pilot cohorts and their flags, and the audit log, viewable
//! and exported as CSV.

mod audit;
mod calls;
mod compose;
mod conversation;
mod customer;
mod deliveries;
mod flags;
mod layout;
mod live;
mod queue;
mod session;
mod sso;

pub use audit::{audit_csv, audit_page};
pub use calls::{end_call, renew_call, scam_report_handled, start_call};
pub use compose::compose;
pub use conversation::{conversation, reply, resolve};
pub use deliveries::{AlertDelivery, alert_deliveries, alerts};
pub use flags::{add_members, flags_page, set_flag};
pub use live::{events, live_js};
pub use queue::{QueueItem, home, queue};
pub use session::{sign_in, sign_out};
pub use sso::{StaffIdp, callback as sso_callback, start as sso_start};

pub(crate) use layout::{error_page, header_bar, see_other, storage_error, when};
pub(crate) use live::live_page;
pub(crate) use session::{current, signed_in_form};

/// A signed-in session for tests of what pages show.
#[cfg(test)]
pub(crate) fn signed_in(display_name: &str, role: crate::staff::Role) -> crate::staff::Session {
    crate::staff::Session {
        token: "token".into(),
        csrf: "csrf-token".into(),
        staff: crate::staff::StaffMember {
            id: 1,
            username: "ana".into(),
            display_name: display_name.into(),
            role,
            disabled_at: None,
        },
    }
}
