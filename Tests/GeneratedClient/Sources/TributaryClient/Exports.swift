// The generated `Client`, `Operations` and `Components` (from openapi.yaml, a
// symlink to the repo's openapi/api.yaml) are this module's public API.
