//! The TCP relay: accepts each client connection, opens one to the target, and forwards both
//! directions chunk by chunk (each `read()`, or each `splice()` on the zero-copy path, is one
//! message). Only delay, jitter and rate apply; chunks are delivered in order, so the byte
//! stream is never altered. Without delay or rate, Linux forwards with splice(2) (see
//! `splice.rs`); otherwise, or when pipes cannot be had, the relay copies.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::impair::{Params, Shaper};
use super::{Ctx, Dir, InFlight, TCP_QUEUE, Tasks};

/// The largest chunk read at once.
const MAX_CHUNK: usize = 64 * 1024;

pub(super) async fn start(
    ctx: Arc<Ctx>,
    listen: SocketAddr,
    tasks: &Tasks,
) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(listen).await?;
    let local = listener.local_addr()?;
    tasks.spawn(accept(ctx, listener, tasks.clone()));
    Ok(local)
}

async fn accept(ctx: Arc<Ctx>, listener: TcpListener, tasks: Tasks) {
    let mut warned = false;
    loop {
        match listener.accept().await {
            Ok((client, peer)) => tasks.spawn(connection(ctx.clone(), tasks.clone(), client, peer)),
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                if !warned {
                    ctx.warn(format!("link: accepting a client connection: {e}"));
                    warned = true;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn connection(ctx: Arc<Ctx>, tasks: Tasks, client: TcpStream, peer: SocketAddr) {
    let flow = ctx.next_flow();
    let server = match TcpStream::connect(ctx.target).await {
        Ok(s) => s,
        Err(e) => {
            ctx.warn(format!(
                "link {}→{}: cannot connect to {}: {e}; closing the connection from {peer}",
                ctx.client, ctx.server, ctx.target
            ));
            return;
        }
    };
    // The relay forwards each chunk as it comes: Nagle would only add delay.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client, server) = if ctx.params.timeless() {
        match zero_copy(&ctx, &tasks, client, server) {
            Some(back) => back,
            None => return,
        }
    } else {
        (client, server)
    };
    let (client_rd, client_wr) = client.into_split();
    let (server_rd, server_wr) = server.into_split();
    let p = ctx.params;
    tokio::join!(
        pipe(
            &ctx,
            Dir::ClientToServer,
            client_rd,
            server_wr,
            Shaper::new(p, flow, 0, true)
        ),
        pipe(
            &ctx,
            Dir::ServerToClient,
            server_rd,
            client_wr,
            Shaper::new(p, flow, 1, true)
        ),
    );
}

/// Relays both directions with splice(2) when pipes can be had (the tasks it spawns own the
/// sockets); gives them back when pipes cannot be had, for the caller to copy instead.
#[cfg(target_os = "linux")]
fn zero_copy(
    ctx: &Arc<Ctx>,
    tasks: &Tasks,
    client: TcpStream,
    server: TcpStream,
) -> Option<(TcpStream, TcpStream)> {
    use super::splice::{Pipe, forward};
    let (Ok(up), Ok(down)) = (Pipe::new(), Pipe::new()) else {
        return Some((client, server));
    };
    let (client, server) = (Arc::new(client), Arc::new(server));
    forward(
        ctx,
        tasks,
        Dir::ClientToServer,
        client.clone(),
        server.clone(),
        up,
    );
    forward(ctx, tasks, Dir::ServerToClient, server, client, down);
    None
}

#[cfg(not(target_os = "linux"))]
fn zero_copy(
    _: &Arc<Ctx>,
    _: &Tasks,
    client: TcpStream,
    server: TcpStream,
) -> Option<(TcpStream, TcpStream)> {
    Some((client, server))
}

/// How much to read at once: with a rate limit, about 10 ms worth (at least one segment), so
/// the stream flows smoothly rather than in bursts.
fn chunk_size(p: &Params) -> usize {
    match p.rate_bps {
        Some(bps) => ((bps / 8 / 100) as usize).clamp(1460, MAX_CHUNK),
        None => MAX_CHUNK,
    }
}

/// Copies one direction until end of stream, then passes the half-close on.
async fn pipe(ctx: &Ctx, dir: Dir, mut rd: OwnedReadHalf, mut wr: OwnedWriteHalf, shaper: Shaper) {
    let mut buf = vec![0u8; chunk_size(&ctx.params)];
    if ctx.params.timeless() {
        loop {
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let now = Instant::now();
            ctx.received(dir, n);
            let f = ctx.sent(dir, &buf[..n], now, None, None);
            if wr.write_all(&buf[..n]).await.is_err() {
                ctx.send_error(dir);
                return;
            }
            ctx.delivered(dir, f, false);
        }
        let _ = wr.shutdown().await;
        return;
    }
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>, InFlight)>(TCP_QUEUE);
    let mut shaper = shaper;
    let reader = async move {
        loop {
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let now = Instant::now();
            ctx.received(dir, n);
            let due = shaper.plan(now, n).due;
            let f = ctx.sent(dir, &buf[..n], now, None, None);
            if tx.send((due, buf[..n].to_vec(), f)).await.is_err() {
                break; // the writer failed
            }
        }
    };
    let writer = async move {
        while let Some((due, data, f)) = rx.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if wr.write_all(&data).await.is_err() {
                ctx.send_error(dir);
                return;
            }
            ctx.delivered(dir, f, false);
        }
        let _ = wr.shutdown().await;
    };
    tokio::join!(reader, writer);
}
