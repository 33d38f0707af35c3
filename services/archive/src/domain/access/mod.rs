//! Who may do what to which dossier: principals and their roles, the
//! permission matrix of the house rules, access requests and the grants an
//! approval creates, lending of paper files, custody hand-over and the
//! hash-chained audit trail. Pure rules live in `matrix`, `approval`,
//! `lending` and `audit`; [`gate::Gate`] applies them and records every
//! refusal; [`desk::Desk`] is every use case a caller reaches, checked.

pub mod approval;
pub mod audit;
pub mod clock;
pub mod desk;
pub mod gate;
pub mod identity;
pub mod lending;
mod loans;
pub mod matrix;
pub mod model;
mod requests;
pub mod store;
mod trail;

pub use clock::Clock;
pub use desk::{AccessSettings, Desk, Export, Shown};
pub use matrix::{Action, Role, Rule};
pub use model::*;
pub use requests::Decision;
