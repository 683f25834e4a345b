//! Connections, held to account: hyper's HTTP/1 server on each accepted
//! socket, with
//!
//! - a header-read timeout, which also closes a keep-alive connection that
//!   waits that long for its next request (hyper starts the timer when the
//!   connection starts waiting for a request);
//! - a cap on open connections below the process's file limit: at the cap, the
//!   connection idle the longest (no request in flight: waiting, or sending
//!   its headers) is asked to close, so a new client, `/healthz` included,
//!   is still served and `accept` never fails for want of file descriptors;
//! - a shutdown that closes idle connections at once and lets requests in
//!   flight finish.
//!
//! The body-read timeout is the handler's (`answer_route`), where a slow
//! body gets a JSON 408.

use axum::extract::connect_info::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tower::ServiceExt;
use tracing::{debug, info, warn};

/// How connections are held to account.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Headers must arrive within this long of the server starting to wait
    /// for a request (a new connection, or the next request on one).
    pub header_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
}

/// Descriptors kept free for everything that is not a client connection
/// (the records database, the knowledge files, logs, the listener).
const RESERVED_FDS: u64 = 64;

/// The default cap: the soft file limit (raised to the hard limit first)
/// minus a reserve, and at most 10,000.
pub fn default_max_connections() -> usize {
    let limit = raise_nofile_limit().unwrap_or(1024);
    limit.saturating_sub(RESERVED_FDS).clamp(16, 10_000) as usize
}

/// Raises the soft limit on open files to the hard limit; returns it.
fn raise_nofile_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    Some(lim.rlim_cur)
}

/// One open connection, as the accept loop sees it.
struct Conn {
    /// Requests being answered on it now.
    in_flight: AtomicUsize,
    /// When it last started or finished a request (ms since the server started).
    last_active: AtomicU64,
    /// Asks it to close (after the request in flight, if any).
    close: Notify,
}

/// The open connections.
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    epoch: Instant,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the connection idle the longest to close; false when every
    /// connection has a request in flight.
    fn evict_idlest(&self) -> bool {
        let conns = self.lock();
        let idlest = conns
            .values()
            .filter(|c| c.in_flight.load(Ordering::Relaxed) == 0)
            .min_by_key(|c| c.last_active.load(Ordering::Relaxed));
        match idlest {
            Some(c) => {
                c.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// Asks every connection to close: idle ones go at once.
    fn close_all(&self) {
        for c in self.lock().values() {
            c.close.notify_one();
        }
    }
}

/// Counts for `/metrics` and logs.
#[derive(Debug, Default)]
pub struct ConnStats {
    /// Connections open now.
    pub open: AtomicUsize,
    /// Connections closed to make room for new ones.
    pub evicted: AtomicU64,
    /// Connections refused because every open one had a request in flight.
    pub refused: AtomicU64,
}

/// Serves `router` on `listener` until `shutdown` resolves, then closes idle
/// connections at once and waits up to `grace` for requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    stats: Arc<ConnStats>,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry {
        conns: Mutex::new(HashMap::new()),
        epoch: Instant::now(),
    });
    let mut next_id = 0u64;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and the like: wait a moment instead of spinning.
                    warn!("accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.as_mut() => break,
        };
        let Some(permit) = admit(&permits, &registry, &stats).await else {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            debug!(%peer, "every connection busy: refused a new one");
            drop(stream);
            continue;
        };
        next_id += 1;
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(registry.now_ms()),
            close: Notify::new(),
        });
        registry.lock().insert(next_id, Arc::clone(&conn));
        stats.open.fetch_add(1, Ordering::Relaxed);
        let (registry, stats, router, id) = (
            Arc::clone(&registry),
            Arc::clone(&stats),
            router.clone(),
            next_id,
        );
        tokio::spawn(async move {
            serve_one(stream, peer, router, limits, &conn, &registry).await;
            registry.lock().remove(&id);
            stats.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    info!("shutting down: closing idle connections, finishing the requests in flight");
    registry.close_all();
    let all = limits.max_connections as u32;
    match tokio::time::timeout(grace, permits.acquire_many(all)).await {
        Ok(_) => {}
        Err(_) => warn!(
            "requests still in flight after {:?}; stopping anyway",
            grace
        ),
    }
    Ok(())
}

/// A slot for a new connection: free, or made by closing the idlest one.
async fn admit(
    permits: &Arc<Semaphore>,
    registry: &Registry,
    stats: &ConnStats,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    if let Ok(p) = Arc::clone(permits).try_acquire_owned() {
        return Some(p);
    }
    // An idle connection closes at once; give it a moment to go.
    for _ in 0..3 {
        if registry.evict_idlest() {
            stats.evicted.fetch_add(1, Ordering::Relaxed);
        }
        let wait = tokio::time::timeout(
            Duration::from_millis(200),
            Arc::clone(permits).acquire_owned(),
        );
        if let Ok(Ok(p)) = wait.await {
            return Some(p);
        }
    }
    None
}

/// One connection: HTTP/1 with keep-alive and the header timeout, each
/// request marked in flight, closed when asked.
async fn serve_one(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnLimits,
    conn: &Arc<Conn>,
    registry: &Arc<Registry>,
) {
    let service = {
        let (conn, registry) = (Arc::clone(conn), Arc::clone(registry));
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let (router, conn, registry) =
                (router.clone(), Arc::clone(&conn), Arc::clone(&registry));
            conn.in_flight.fetch_add(1, Ordering::Relaxed);
            conn.last_active.store(registry.now_ms(), Ordering::Relaxed);
            async move {
                let res = router.oneshot(req.map(axum::body::Body::new)).await;
                conn.in_flight.fetch_sub(1, Ordering::Relaxed);
                conn.last_active.store(registry.now_ms(), Ordering::Relaxed);
                res
            }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let serving = builder.serve_connection(TokioIo::new(stream), service);
    let mut serving = std::pin::pin!(serving);
    let result = tokio::select! {
        r = serving.as_mut() => r,
        _ = conn.close.notified() => {
            serving.as_mut().graceful_shutdown();
            if conn.in_flight.load(Ordering::Relaxed) > 0 {
                // A request is being answered: let it finish.
                serving.await
            } else {
                // Idle, or still sending its headers: nothing to finish.
                // hyper closes an idle connection itself; one half-way
                // through its headers is dropped here.
                tokio::time::timeout(Duration::from_millis(100), serving)
                    .await
                    .unwrap_or(Ok(()))
            }
        }
    };
    if let Err(e) = result {
        debug!(%peer, "connection closed: {e}");
    }
}
