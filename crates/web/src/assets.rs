//! The scripts the pages load: the NCALayer protocol client and the portal's behaviour. Built into
//! the binary; served with a long cache and a strong validator.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: [(&str, &str); 2] = [
    ("ncalayer.js", include_str!("../assets/ncalayer.js")),
    ("portal.js", include_str!("../assets/portal.js")),
];

pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, body)) = FILES.iter().find(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", &crate::session::sha256_hex(body.as_bytes())[..16]);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/javascript; charset=utf-8".to_owned(),
            ),
            (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
            (header::ETAG, etag),
        ],
        *body,
    )
        .into_response()
}
