//! Peer-to-peer protocols (BitTorrent, the Mainline DHT): their wire formats, decoded
//! without trusting the peer.

pub mod bencode;
