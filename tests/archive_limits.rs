//! Chart archives that try to exhaust memory: huge tar header entries (GNU long names, PAX
//! headers) and subchart archives nested in a chart. The real binary runs under an address-space
//! limit and must end with a clear error and exit 1, never an abort.
//!
//! The archives are built here, small: gzip pieces of repeated bytes compressed once and
//! concatenated (each piece a sync-flushed deflate stream from a fresh encoder, so pieces can be
//! chained), which makes a gigabyte of tar from a few megabytes of work.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Address space allowed to rudder: far below what the attacks inflate to.
const MEMORY_LIMIT: &str = "1536MiB";

/// Raw deflate of `data` from a fresh encoder, sync-flushed: byte-aligned, not final, and with
/// no reference outside itself, so such pieces concatenate into one valid deflate stream.
fn deflate_piece(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.flush().unwrap();
    enc.get_ref().clone()
}

/// A gzip stream of pieces, each `(plain bytes, times)`. The CRC is computed only when asked:
/// the huge attacks are refused long before the trailer is read.
struct Gzip {
    body: Vec<u8>,
    crc: flate2::Crc,
    with_crc: bool,
}

impl Gzip {
    fn new(with_crc: bool) -> Self {
        Gzip {
            body: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
            crc: flate2::Crc::new(),
            with_crc,
        }
    }

    fn push(&mut self, plain: &[u8], times: usize) {
        let piece = deflate_piece(plain);
        for _ in 0..times {
            self.body.extend_from_slice(&piece);
            if self.with_crc {
                self.crc.update(plain);
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        // An empty final block with fixed Huffman codes.
        self.body.extend_from_slice(&[0x03, 0x00]);
        let (crc, len) = if self.with_crc {
            (self.crc.sum(), self.crc.amount())
        } else {
            (0, 0)
        };
        self.body.extend_from_slice(&crc.to_le_bytes());
        self.body.extend_from_slice(&len.to_le_bytes());
        self.body
    }
}

/// A 512-byte tar header for `name` of `kind` and `size`.
fn header(name: &str, kind: tar::EntryType, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    let raw = &mut h.as_old_mut().name;
    let n = name.len().min(100);
    raw[..n].copy_from_slice(&name.as_bytes()[..n]);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h.as_bytes().to_vec()
}

/// A file entry: header plus data padded to 512 bytes.
fn file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut out = header(name, tar::EntryType::Regular, data.len() as u64);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

const CHART_YAML: &[u8] = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";
const CONFIGMAP: &[u8] = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n";

/// A chart archive whose first member is a header entry of `kind` with `size` bytes of `fill`
/// (a multiple of 1 MiB), followed by a sound chart.
fn archive_with_huge_header(kind: tar::EntryType, size_mib: usize, fill: u8) -> Vec<u8> {
    let mut gz = Gzip::new(false);
    gz.push(&header("././@LongLink", kind, (size_mib as u64) << 20), 1);
    gz.push(&vec![fill; 1 << 20], size_mib);
    let mut tail = file("demo/Chart.yaml", CHART_YAML);
    tail.extend(file("demo/templates/cm.yaml", CONFIGMAP));
    tail.extend([0u8; 1024]);
    gz.push(&tail, 1);
    gz.finish()
}

/// Runs `rudder ARGS` under the address-space limit, with `envs` set.
fn rudder_limited(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new("prlimit");
    cmd.arg(format!("--as={}", as_bytes(MEMORY_LIMIT)))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_rudder"))
        .args(args)
        .env_remove("RUDDER_MAX_CHART_SIZE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("prlimit runs rudder")
}

fn as_bytes(limit: &str) -> u64 {
    limit.trim_end_matches("MiB").parse::<u64>().unwrap() << 20
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Exit 1 (not an abort or a signal), a short error holding every needle, nothing on stdout.
fn assert_refused(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clean exit 1, got {:?}; stderr (first 2000 bytes):\n{}",
        out.status,
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        stderr.len() < 4096,
        "the error is {} bytes long",
        stderr.len()
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from:\n{stderr}"
        );
    }
    assert!(out.stdout.is_empty());
}

#[test]
fn a_gigabyte_gnu_long_name_is_refused_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, words) in [
        (tar::EntryType::GNULongName, "GNU long name"),
        (tar::EntryType::GNULongLink, "GNU long link name"),
    ] {
        let path = write(
            dir.path(),
            "long.tgz",
            &archive_with_huge_header(kind, 1536, b'a'),
        );
        let out = rudder_limited(&["template", path.to_str().unwrap()], &[]);
        assert_refused(&out, &[words, "longer than 4096 bytes", "long.tgz"]);
    }
}

#[test]
fn a_gigabyte_pax_header_is_refused_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // One PAX record ("<len> path=aaaa…\n") would do; filler bytes are refused the same way.
    let path = write(
        dir.path(),
        "pax.tgz",
        &archive_with_huge_header(tar::EntryType::XHeader, 1536, b'1'),
    );
    let out = rudder_limited(&["template", path.to_str().unwrap()], &[]);
    assert_refused(&out, &["PAX header", "larger than 64 KiB", "pax.tgz"]);
}

/// A subchart archive `sub` holding `files` files of 4 MiB of zeros (each under the per-file
/// limit), with a correct CRC so that it is read to the end.
fn subchart_archive(files: usize) -> Vec<u8> {
    let mut gz = Gzip::new(true);
    gz.push(
        &file(
            "sub/Chart.yaml",
            b"apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        ),
        1,
    );
    let zeros = vec![0u8; 4 << 20];
    for i in 0..files {
        gz.push(
            &header(&format!("sub/files/f{i}"), tar::EntryType::Regular, 4 << 20),
            1,
        );
        gz.push(&zeros, 1);
    }
    gz.push(&[0u8; 1024], 1);
    gz.finish()
}

/// A chart archive with `count` copies of a 64 MiB subchart archive in `charts/`, stored
/// uncompressed (the copies barely compress).
fn chart_with_nested_archives(count: usize) -> Vec<u8> {
    let sub = subchart_archive(16);
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, name, data).unwrap();
    };
    add("demo/Chart.yaml", CHART_YAML);
    add("demo/templates/cm.yaml", CONFIGMAP);
    for i in 0..count {
        add(&format!("demo/charts/sub{i}.tgz"), &sub);
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn nested_subchart_archives_share_one_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "nested.tgz", &chart_with_nested_archives(40));
    let path = path.to_str().unwrap();
    let out = rudder_limited(&["template", path], &[]);
    assert_refused(
        &out,
        &[
            "nested.tgz:demo/charts/sub1.tgz",
            "more than 100 MiB",
            "RUDDER_MAX_CHART_SIZE",
        ],
    );
    // Each subchart fits alone, two do not. The limit can be raised: two subcharts (128 MiB)
    // then fit, forty (2.5 GiB) still do not. (Rendering 128 MiB of files is not the point
    // here, so that run has no memory limit.)
    let two = write(dir.path(), "two.tgz", &chart_with_nested_archives(2));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rudder"))
        .args(["template", two.to_str().unwrap()])
        .env("RUDDER_MAX_CHART_SIZE", "300MiB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rudder_limited(&["template", path], &[("RUDDER_MAX_CHART_SIZE", "300MiB")]);
    assert_refused(&out, &["more than 300 MiB"]);
    let out = rudder_limited(&["template", path], &[("RUDDER_MAX_CHART_SIZE", "lots")]);
    assert_refused(&out, &["RUDDER_MAX_CHART_SIZE=\"lots\" is not a size"]);
}
