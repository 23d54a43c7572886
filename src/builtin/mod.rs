//! Reference services shipped inside the binary (`panther builtin …`), so a first run needs
//! nothing installed: the MinIP server in its five versions, the MinIP tester and the HTTP/1.1
//! conformance tester. They speak the record protocol of `events::record` on stdout.
