pub mod qlog;
