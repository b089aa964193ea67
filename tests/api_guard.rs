//! The API over real sockets to a running dsguard (the real wiring, `app::run`, against the
//! simulator): writes need the token, bodies are bounded, and idle half-sent requests neither
//! starve `/healthz` nor stay open past the header read timeout.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dsguard::settings::Settings;
use dsguard::simulated;
use dsguard_sim::testing::{options, scenario_file, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "4f1c2a9e7b3d5f6081a2c3d4e5f60718";

/// The header read timeout of these tests: short, so that the test is quick.
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

const MUTE_ALL: &str =
    r#"{"matchers": ["alertname=~.*"], "duration": "87599h", "created_by": "mallory"}"#;

fn settings(name: &str) -> (Settings, PathBuf) {
    let dir = std::env::temp_dir().join(format!("dsguard-api-guard-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let path = dir.join("settings.yaml");
    std::fs::write(
        &path,
        format!(
            "server:\n  auth: {{ token_file: {} }}\n  limits: {{ header_read_timeout: {}s }}\n",
            token.display(),
            HEADER_TIMEOUT.as_secs()
        ),
    )
    .unwrap();
    (
        Settings::load_with_env(Some(&path), Vec::new()).unwrap(),
        dir,
    )
}

/// An HTTP client (reqwest is built without a bundled crypto provider; dsguard installs ring).
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(url: &str, token: Option<&str>, body: String) -> (u16, serde_json::Value) {
    let mut request = client()
        .post(url)
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mute_all_silence_needs_the_token_and_huge_bodies_are_refused() {
    let sim = start(scenario_file("demo.yaml"), options(1.0)).await;
    let (settings, dir) = settings("token");
    let dsguard = simulated::Dsguard::start(&sim, settings, simulated::Attach::default())
        .await
        .unwrap();
    let url = format!("http://{}/api/v1/silences", dsguard.addr);

    let (status, body) = post(&url, None, MUTE_ALL.to_owned()).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = post(&url, Some("not-the-token"), MUTE_ALL.to_owned()).await;
    assert_eq!(status, 401);
    let (status, body) = post(&url, Some(TOKEN), MUTE_ALL.to_owned()).await;
    assert_eq!(status, 400, "ten years is too long: {body}");
    let month = MUTE_ALL.replace("87599h", "720h");
    let (status, body) = post(&url, Some(TOKEN), month).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();

    let matchers: Vec<String> = (0..10_000).map(|i| format!("node=w-{i}")).collect();
    let huge = serde_json::json!({"matchers": matchers, "duration": "1h", "created_by": "x"});
    let (status, body) = post(&url, Some(TOKEN), huge.to_string()).await;
    assert_eq!(status, 413, "{body}");

    let client = client();
    let lift = client.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(
        lift.status().as_u16(),
        401,
        "nobody lifts it without the token"
    );
    let lift = client
        .delete(format!("{url}/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(lift.status().as_u16(), 204);
    dsguard.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// A request line and one header, then nothing: the slowloris connection.
async fn stall(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: dsguard\r\n")
        .await
        .unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_half_sent_requests_neither_starve_healthz_nor_stay_open() {
    let sim = start(scenario_file("demo.yaml"), options(1.0)).await;
    let (settings, dir) = settings("slowloris");
    let dsguard = simulated::Dsguard::start(&sim, settings, simulated::Attach::default())
        .await
        .unwrap();
    let opened = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..300 {
        stalled.push(stall(dsguard.addr).await);
    }

    let asked = Instant::now();
    let healthz = client()
        .get(format!("http://{}/healthz", dsguard.addr))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answers beside 300 stalled connections");
    assert_eq!(healthz.status().as_u16(), 200);
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "/healthz took {took:?}");

    // Every stalled connection is closed by the server once the header read timeout passes.
    let deadline = HEADER_TIMEOUT + Duration::from_secs(5);
    for stream in &mut stalled {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(deadline, stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "still open after {:?}", opened.elapsed());
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    let closed_after = opened.elapsed();
    assert!(
        closed_after >= HEADER_TIMEOUT - Duration::from_millis(100),
        "closed before the timeout: {closed_after:?}"
    );
    println!("300 stalled connections: /healthz in {took:?}, all closed after {closed_after:?}");
    dsguard.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
