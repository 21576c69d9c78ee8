//! The resource registry: the one list of resource kinds, and what it generates.
//!
//! `kinds!` in `resource/mod.rs` names every kind once, with its module and type. From that
//! list it declares the modules, the kind names for messages ([`KINDS`](super::KINDS)), the
//! runbook step table ([`RawStep`](super::RawStep): the step's own keys plus one optional
//! table per kind, so serde reports unknown keys and toml keeps every value's span for
//! `file:line:column`) and the dispatch from a table to its validated resource. Adding a
//! kind is its file plus one line in that list.
//!
//! The step's own keys (`name`, `hosts`, `when`, `check_only`) and the lifecycle tables
//! (`recreate`, `reboot`: not resources, see [`lifecycle`](super::lifecycle)) are declared here too: serde cannot
//! combine `flatten` with `deny_unknown_fields`, and toml's spans do not survive it.

use serde::de::DeserializeOwned;

use super::spec::SpecError;
use super::{Need, Placement, Resource};

/// A resource kind as the registry sees it: a spec read from the runbook, validated into
/// the resource that plans.
pub trait FromSpec: Resource + Sized + 'static {
    /// The kind's table as written in a runbook (serde, `deny_unknown_fields`, with
    /// `toml::Spanned` around values that are validated so errors can point at them).
    type Spec: DeserializeOwned + std::fmt::Debug;

    /// Where steps of this kind run: the selected machine, or a selected guest's host.
    /// A property of the kind, so a step with templates is placed before it is rendered.
    const PLACEMENT: Placement = Placement::Target;

    /// What the engine must provide before planning steps of this kind, besides facts.
    const NEEDS: &'static [Need] = &[];

    /// Checks the spec (regexes compile, paths are absolute, choices are consistent) and
    /// builds the resource.
    fn from_spec(spec: &Self::Spec) -> Result<Self, SpecError>;
}

/// Builds the resource of one kind's table: the dispatch the registry generates per kind.
pub fn build<R: FromSpec>(spec: &R::Spec) -> Result<Box<dyn Resource>, SpecError> {
    Ok(Box::new(R::from_spec(spec)?))
}

/// Declares the resource kinds: `kinds! { name => Type, ... }`, each `name` a module of
/// `resource` holding `Type: FromSpec`.
macro_rules! kinds {
    ($($kind:ident => $ty:ident),* $(,)?) => {
        $(pub mod $kind;)*

        /// Every resource kind's name as written in runbooks, in registry order.
        pub const KINDS: &[&str] = &[$(stringify!($kind)),*];

        /// One `[[step]]` table as written: the step's own keys and one optional table
        /// per resource kind (exactly one must be given).
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawStep {
            /// The step's name, for reports.
            pub name: Option<String>,
            /// Which machines it applies to (a host pattern; default `all`).
            pub hosts: Option<toml::Spanned<String>>,
            /// When it applies (a condition on facts).
            pub when: Option<toml::Spanned<String>>,
            /// Evaluated by `vmup check` and shown by `vmup plan`, never applied: a health
            /// rule written as a step ("runbook steps may be marked as checks only").
            #[serde(default)]
            pub check_only: bool,
            /// A lifecycle step: recreate the selected guests after the apply.
            pub recreate: Option<$crate::resource::lifecycle::LifecycleSpec>,
            /// A lifecycle step: reboot the selected hosts after the apply.
            pub reboot: Option<$crate::resource::lifecycle::LifecycleSpec>,
            $(
                #[doc = concat!("The `", stringify!($kind), "` table, if this step is one.")]
                pub $kind: Option<<$kind::$ty as $crate::resource::registry::FromSpec>::Spec>,
            )*
        }

        impl RawStep {
            /// The kinds of the tables present, with where they run and what they need.
            pub fn kinds(
                &self,
            ) -> Vec<(&'static str, $crate::resource::Placement, &'static [$crate::resource::Need])> {
                let mut found = Vec::new();
                $(
                    if self.$kind.is_some() {
                        found.push((
                            stringify!($kind),
                            <$kind::$ty as $crate::resource::registry::FromSpec>::PLACEMENT,
                            <$kind::$ty as $crate::resource::registry::FromSpec>::NEEDS,
                        ));
                    }
                )*
                found
            }

            /// The validated resources of the tables present, with their kind names.
            pub fn resources(
                &self,
            ) -> Result<Vec<(&'static str, Box<dyn Resource>)>, $crate::resource::spec::SpecError> {
                let mut found: Vec<(&'static str, Box<dyn Resource>)> = Vec::new();
                $(
                    if let Some(spec) = &self.$kind {
                        found.push((
                            stringify!($kind),
                            $crate::resource::registry::build::<$kind::$ty>(spec)?,
                        ));
                    }
                )*
                Ok(found)
            }
        }
    };
}
