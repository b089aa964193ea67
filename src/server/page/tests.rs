//! The page and its assets are served with their content types, and reference only relative
//! URLs (no CDN, no absolute path that breaks under a proxy prefix).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use super::*;

async fn get_asset(path: &str) -> (StatusCode, String, String) {
    let response = assets::<()>()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn the_page_and_every_asset_are_served_with_their_content_type() {
    let (status, content_type, body) = get_asset("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"));
    assert!(body.contains("<title>dsguard</title>"));
    for (path, content_type, _) in ASSETS {
        let (status, served, body) = get_asset(path).await;
        assert_eq!((status, served.as_str()), (StatusCode::OK, content_type));
        assert!(!body.is_empty(), "{path}");
    }
}

#[test]
fn assets_reference_nothing_outside_the_server_and_no_absolute_path() {
    for (path, _, body) in ASSETS {
        for needle in [
            "http://",
            "https://",
            "//cdn",
            "src=\"/",
            "href=\"/",
            "fetch(\"/",
            "fetch('/",
        ] {
            assert!(!body.contains(needle), "{path} contains {needle:?}");
        }
        assert!(body.lines().count() <= 500, "{path} is over 500 lines");
    }
}
