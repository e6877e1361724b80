//! Session operations behind editing: definitions import and export, moving and replaying messages, and a
//! message's lineage. (Work in progress.)
