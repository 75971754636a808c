//! Sprig's encoding functions.

use super::Registry;

pub(super) fn register(_r: &mut Registry) {}
