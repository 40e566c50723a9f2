//! Incus REST API client.
