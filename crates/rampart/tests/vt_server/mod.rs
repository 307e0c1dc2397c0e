//! A local server that answers as VirusTotal's v3 API does: an object
//! for a few known addresses (185.220.101.45 and 204.76.203.208
//! malicious, 8.8.8.8 clean, 45.33.32.156 throttled once with 429 and
//! Retry-After), 404 for the rest, 401 for any key but `testkey`; it
//! keeps the paths it was asked. Built on a local JSON API whose answers
//! a test gives, which other services' tests use.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a handler answers: the status line's end, extra header lines
/// (each ending in CRLF) and the body.
pub type Reply = (&'static str, &'static str, String);

/// A local JSON API: each request's path and lower-cased headers go to
/// `answer`; returns its address and the paths it was asked for.
#[allow(dead_code)]
pub fn answering(
    answer: impl Fn(&str, &[(String, String)]) -> Reply + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap_or(0);
            let mut headers = Vec::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':') {
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(path.clone());
            let (status, extra, body) = answer(&path, &headers);
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (addr, asked)
}

/// A fake VirusTotal: returns its address and the paths it was asked for.
#[allow(dead_code)]
pub fn serve() -> (String, Arc<Mutex<Vec<String>>>) {
    let throttled = AtomicUsize::new(0);
    answering(move |path, headers| {
        let key = headers
            .iter()
            .find(|(n, _)| n == "x-apikey")
            .map_or("", |(_, v)| v.as_str());
        let stats = |malicious: u32| {
            format!(
                r#"{{"data":{{"attributes":{{"last_analysis_stats":{{"malicious":{malicious},"suspicious":0,"harmless":70,"undetected":24,"timeout":0}},"network":"185.220.101.0/24","asn":60729,"as_owner":"Example AS","country":"DE","regional_internet_registry":"RIPE NCC","last_analysis_date":1750788713,"last_modification_date":1750788713,"tags":["tor"]}}}}}}"#
            )
        };
        if key != "testkey" {
            return (
                "401 Unauthorized",
                "",
                r#"{"error":{"code":"WrongCredentialsError"}}"#.to_owned(),
            );
        }
        match path.rsplit('/').next().unwrap_or("") {
            "185.220.101.45" => ("200 OK", "", stats(72)),
            "8.8.8.8" => ("200 OK", "", stats(0)),
            "204.76.203.208" => ("200 OK", "", stats(10)),
            "45.33.32.156" if throttled.fetch_add(1, Ordering::SeqCst) == 0 => (
                "429 Too Many Requests",
                "Retry-After: 1\r\n",
                "{}".to_owned(),
            ),
            "45.33.32.156" => ("200 OK", "", stats(3)),
            _ => (
                "404 Not Found",
                "",
                r#"{"error":{"code":"NotFoundError"}}"#.to_owned(),
            ),
        }
    })
}
