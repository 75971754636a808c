//! Sprig's random functions.

use super::Registry;

pub(super) fn register(_r: &mut Registry) {}
