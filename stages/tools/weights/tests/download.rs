//! rcic-weights against a server the test runs on 127.0.0.1: a file whose
//! name carries its hash is downloaded into the cache and printed; one
//! whose bytes do not match is refused and nothing is kept; an unreachable
//! address says which file is needed, from where and how to pass it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

/// Serves `body` to `n` requests; returns the port.
fn serve(body: Vec<u8>, n: usize) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(n) {
            let mut s = s.unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&body).unwrap();
        }
    });
    port
}

fn weights(cache: &Path, args: &[&str]) -> Output {
    Command::new(rcic_testkit::bin("rcic-weights"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .env("TORCH_HOME", cache.join("torch"))
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn body() -> (Vec<u8>, String) {
    // 3 MB, so the copy runs over several reads.
    let b: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let h: String = Sha256::digest(&b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    (b, h)
}

#[test]
fn a_download_is_verified_and_published() {
    let d = tempfile::tempdir().unwrap();
    let (b, h) = body();
    let port = serve(b.clone(), 1);
    let name = format!("resnet18-{}.pth", &h[..8]);
    let url = format!("http://127.0.0.1:{port}/{name}");
    let out = weights(d.path(), &["--backbone", "resnet18", "--url", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = d.path().join(&name);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        path.display().to_string()
    );
    assert_eq!(std::fs::read(&path).unwrap(), b);
    let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary left: {left:?}");
}

#[test]
fn bytes_that_do_not_match_the_name_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let (b, h) = body();
    let port = serve(b, 1);
    let wrong = if h.starts_with('0') {
        "11111111"
    } else {
        "00000000"
    };
    let url = format!("http://127.0.0.1:{port}/densenet161-{wrong}.pth");
    let out = weights(d.path(), &["--backbone", "densenet161", "--url", &url]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains(&h) && e.contains(wrong) && e.contains("nothing was kept"),
        "{e}"
    );
    assert!(
        e.contains("densenet161-8d451a50.pth") && e.contains("PRETRAINED=FILE"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
}

#[test]
fn without_a_server_the_error_says_what_is_needed() {
    let d = tempfile::tempdir().unwrap();
    // A port nothing listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/densenet161-8d451a50.pth");
    let out = weights(
        d.path(),
        &[
            "--backbone",
            "mem-densenet161",
            "--url",
            &url,
            "--timeout",
            "5",
        ],
    );
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    for part in [
        "cannot download",
        "densenet161-8d451a50.pth",
        "https://download.pytorch.org/models/densenet161-8d451a50.pth",
        "make weights",
        "PRETRAINED=FILE",
    ] {
        assert!(e.contains(part), "{part}: {e}");
    }
}

#[test]
fn a_configuration_without_pretrained_needs_nothing() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("train.toml");
    std::fs::write(&cfg, "[train]\nbackbone = \"densenet-tiny\"\n").unwrap();
    let out = weights(d.path(), &["--train-config", cfg.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    std::fs::write(
        &cfg,
        "[train]\nbackbone = \"densenet-tiny\"\npretrained = \"imagenet\"\n",
    )
    .unwrap();
    let out = weights(d.path(), &["--train-config", cfg.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && e.contains("densenet-tiny")
            && e.contains("publishes no ImageNet weights"),
        "{e}"
    );
}
