//! What survives a broker restart or a page reload: the session's side of durable state. (Work in progress.)
