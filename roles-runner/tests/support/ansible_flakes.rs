//! Failures of community.general.incus itself (seen under load) in Ansible's output: a
//! reference run that hit one is run again; the runner never gets that second chance.
//! Shared by `support` (conformance) and `webstack_proof` (which includes this file alone).

pub const ANSIBLE_FLAKES: &[&str] = &[
    "Module result deserialization failed",
    "failed to resolve remote temporary directory",
];

/// The known flake `output` shows, if any.
pub fn ansible_flake(output: &str) -> Option<&'static str> {
    ANSIBLE_FLAKES.iter().copied().find(|f| output.contains(f))
}
