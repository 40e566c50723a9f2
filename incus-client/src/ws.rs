//! Operation websockets (`GET /1.0/operations/ID/websocket?secret=S`), each on a fresh
//! connection (unix socket or TLS) outside reqwest's pool.

use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::client::{Call, Client, encode_query, encode_segment};
use crate::error::{Error, Result, chain};
use crate::transport::BoxStream;

pub(crate) type Ws = WebSocketStream<BoxStream>;

pub(crate) async fn connect(client: &Client, op_id: &str, secret: &str, call: &Call) -> Result<Ws> {
    let path = format!(
        "/1.0/operations/{}/websocket?secret={}",
        encode_segment(op_id),
        encode_query(secret)
    );
    let (_, shown) = client.url_for(&path);
    let fail = |detail: String| Error::WebSocket {
        method: call.method.clone(),
        path: call.path.clone(),
        detail,
    };
    let stream = client
        .inner
        .endpoint
        .connect_raw()
        .await
        .map_err(|e| fail(format!("connecting to {}: {e}", client.endpoint())))?;
    let request = format!("{}{}", client.ws_base(), shown)
        .into_client_request()
        .map_err(|e| fail(format!("bad websocket request: {e}")))?;
    let (ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|e| fail(format!("handshake for operation {op_id}: {}", chain(&e))))?;
    Ok(ws)
}
