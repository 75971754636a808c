//! Hostile chart archives, built byte by byte (the `tar` crate refuses most of these): path
//! escapes, links, devices, oversized headers, bombs, truncation and things that are not gzip.

use std::io::Write;
use std::path::Path;

use super::harness::Probe;

const CHART_YAML: &[u8] = b"apiVersion: v2\nname: p\nversion: 0.1.0\n";
const CM: &[u8] =
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  a: b\n";

/// A tar stream written header by header.
#[derive(Default)]
struct Tar {
    data: Vec<u8>,
}

impl Tar {
    /// Appends one 512-byte header; `name` and `link` go into the fixed fields unchecked.
    fn header(&mut self, name: &[u8], kind: u8, size: u64, link: &[u8]) -> &mut Self {
        let mut h = [0u8; 512];
        let n = name.len().min(100);
        h[..n].copy_from_slice(&name[..n]);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = kind;
        let l = link.len().min(100);
        h[157..157 + l].copy_from_slice(&link[..l]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        self.finish_header(h)
    }

    fn finish_header(&mut self, mut h: [u8; 512]) -> &mut Self {
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.data.extend_from_slice(&h);
        self
    }

    fn body(&mut self, data: &[u8]) -> &mut Self {
        self.data.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.data.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    fn file(&mut self, name: &[u8], data: &[u8]) -> &mut Self {
        self.header(name, b'0', data.len() as u64, b"").body(data)
    }

    fn chart(&mut self) -> &mut Self {
        self.file(b"p/Chart.yaml", CHART_YAML)
            .file(b"p/templates/cm.yaml", CM)
    }

    fn gnu_long_name(&mut self, name: &[u8]) -> &mut Self {
        let mut data = name.to_vec();
        data.push(0);
        self.header(b"././@LongLink", b'L', data.len() as u64, b"")
            .body(&data)
    }

    fn pax(&mut self, kind: u8, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let body_len = k.len() + v.len() + 3;
            // The length prefix counts its own digits.
            let mut len = body_len + 1;
            while len.to_string().len() + body_len != len {
                len += 1;
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        self.header(b"pax", kind, data.len() as u64, b"")
            .body(&data)
    }

    fn end(&mut self) -> Vec<u8> {
        self.data.extend_from_slice(&[0u8; 1024]);
        std::mem::take(&mut self.data)
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

/// A gzip of a tar whose one file entry is `size` zero bytes, built from one compressed piece
/// repeated (cheap to make, `size` bytes to inflate).
fn zero_bomb(size: u64) -> Vec<u8> {
    let mut head = Tar::default();
    head.chart()
        .header(b"p/templates/bomb.yaml", b'0', size, b"");
    let head = head.data;
    let piece_plain = vec![0u8; 1 << 20];
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&piece_plain).expect("deflate");
    enc.flush().expect("deflate");
    let piece = enc.get_ref().clone();
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&head).expect("deflate");
    enc.flush().expect("deflate");
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    body.extend_from_slice(enc.get_ref());
    for _ in 0..size >> 20 {
        body.extend_from_slice(&piece);
    }
    // An empty final block; the CRC is wrong, but the limit must stop reading long before it.
    body.extend_from_slice(&[0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    body
}

/// Every hostile archive: (name, bytes, must it be refused).
/// `abs` is a folder outside every probe's target; absolute entries point into it.
pub fn hostile(abs: &Path) -> Vec<(String, Vec<u8>, bool)> {
    let abs_file = abs.join("abs-escaped").to_string_lossy().into_owned();
    let abs_dir = abs.to_string_lossy().into_owned();
    let mut all: Vec<(&str, Vec<u8>, bool)> = Vec::new();
    let t = Tar::default;
    all.push(("baseline", gzip(&t().chart().end()), false));
    all.push((
        "dotdot-file",
        gzip(&t().chart().file(b"p/../../escaped.yaml", b"x").end()),
        true,
    ));
    all.push((
        "dotdot-deep",
        gzip(&t().chart().file(b"../../../../escaped", b"x").end()),
        true,
    ));
    // Helm skips directory entries, `..` included: harmless, either answer is fine.
    all.push((
        "dotdot-only",
        gzip(&t().chart().header(b"..", b'5', 0, b"").end()),
        false,
    ));
    all.push((
        "dot-then-dotdot",
        gzip(&t().chart().file(b"p/./../../../escaped", b"x").end()),
        true,
    ));
    all.push((
        "backslash",
        gzip(&t().chart().file(b"p\\..\\..\\escaped", b"x").end()),
        false,
    ));
    all.push((
        "absolute",
        gzip(&t().chart().file(abs_file.as_bytes(), b"x").end()),
        true,
    ));
    all.push((
        "symlink-etc",
        gzip(
            &t().chart()
                .header(b"p/templates/l.yaml", b'2', 0, b"/etc/passwd")
                .end(),
        ),
        true,
    ));
    all.push((
        "symlink-then-write",
        gzip(
            &t().chart()
                .header(b"p/up", b'2', 0, b"../../..")
                .file(b"p/up/escaped", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "symlink-abs-then-write",
        gzip(
            &t().chart()
                .header(b"p/up", b'2', 0, abs_dir.as_bytes())
                .file(b"p/up/escaped", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "symlink-loop",
        gzip(
            &t().chart()
                .header(b"p/a", b'2', 0, b"b")
                .header(b"p/b", b'2', 0, b"a")
                .end(),
        ),
        true,
    ));
    all.push((
        "hardlink-etc",
        gzip(&t().chart().header(b"p/h", b'1', 0, b"/etc/passwd").end()),
        true,
    ));
    all.push((
        "hardlink-outside",
        gzip(&t().chart().header(b"p/h", b'1', 0, b"../../escaped").end()),
        true,
    ));
    all.push((
        "hardlink-self",
        gzip(&t().chart().header(b"p/h", b'1', 0, b"p/h").end()),
        true,
    ));
    all.push((
        "char-device",
        gzip(&t().chart().header(b"p/dev", b'3', 0, b"").end()),
        true,
    ));
    all.push((
        "block-device",
        gzip(&t().chart().header(b"p/blk", b'4', 0, b"").end()),
        true,
    ));
    all.push((
        "fifo",
        gzip(&t().chart().header(b"p/fifo", b'6', 0, b"").end()),
        true,
    ));
    all.push((
        "sparse",
        gzip(&t().chart().header(b"p/sparse", b'S', 0, b"").end()),
        true,
    ));
    all.push((
        "unknown-type",
        gzip(&t().chart().header(b"p/odd", b'Z', 1, b"").body(b"x").end()),
        false,
    ));
    all.push((
        "gnu-long-dotdot",
        gzip(
            &t().chart()
                .gnu_long_name(b"p/../../escaped-long")
                .file(b"short", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "gnu-long-8k",
        gzip(
            &t().chart()
                .gnu_long_name(&[b'n'; 8192])
                .file(b"short", b"x")
                .end(),
        ),
        true,
    ));
    let mut long_link = t();
    long_link.chart();
    long_link
        .header(b"././@LongLink", b'K', 8193, b"")
        .body(&[b'l'; 8193]);
    all.push((
        "gnu-long-link-8k",
        gzip(&long_link.header(b"p/l", b'2', 0, b"x").end()),
        true,
    ));
    all.push((
        "pax-path-dotdot",
        gzip(
            &t().chart()
                .pax(b'x', &[("path", b"../../escaped-pax")])
                .file(b"p/x", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "pax-path-abs",
        gzip(
            &t().chart()
                .pax(b'x', &[("path", abs_file.as_bytes())])
                .file(b"p/x", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "pax-linkpath",
        gzip(
            &t().chart()
                .pax(b'x', &[("linkpath", b"/etc/shadow")])
                .header(b"p/l", b'2', 0, b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "pax-100k",
        gzip(
            &t().chart()
                .pax(b'x', &[("comment", &[b'c'; 100_000])])
                .file(b"p/x", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "pax-global",
        gzip(
            &t().pax(b'g', &[("path", b"../../escaped-global")])
                .chart()
                .end(),
        ),
        false,
    ));
    all.push((
        "pax-bad-record",
        gzip(
            &t().chart()
                .header(b"pax", b'x', 9, b"")
                .body(b"999 x=y\n\n")
                .file(b"p/x", b"x")
                .end(),
        ),
        true,
    ));
    all.push((
        "pax-size-huge",
        gzip(
            &t().chart()
                .pax(b'x', &[("size", b"99999999999999")])
                .file(b"p/x", b"x")
                .end(),
        ),
        false,
    ));
    all.push((
        "empty-name",
        gzip(&t().chart().file(b"", b"x").end()),
        false,
    ));
    all.push((
        "control-chars-name",
        gzip(
            &t().chart()
                .file(b"p/templates/a\nb\x1b[31m.yaml", b"x: 1\n")
                .end(),
        ),
        false,
    ));
    all.push((
        "invalid-utf8-name",
        gzip(
            &t().chart()
                .file(b"p/templates/\xff\xfe.yaml", b"x: 1\n")
                .end(),
        ),
        false,
    ));
    let mut short = t()
        .chart()
        .header(b"p/short.yaml", b'0', 4096, b"")
        .data
        .clone();
    short.extend_from_slice(b"only a little");
    all.push(("size-beyond-data", gzip(&short), true));
    let mut bad_sum = t().chart().end();
    bad_sum[148] = b'7';
    all.push(("bad-checksum", gzip(&bad_sum), true));
    let mut bad_size = t().file(b"p/Chart.yaml", CHART_YAML).end();
    bad_size[124..136].copy_from_slice(b"zzzzzzzzzzz\0");
    all.push(("garbage-size-field", gzip(&bad_size), true));
    all.push((
        "claimed-size-huge",
        gzip(&t().chart().header(b"p/big", b'0', 0o77777777777, b"").end()),
        true,
    ));
    let good = gzip(&t().chart().end());
    for (cut_name, cut) in [
        ("truncated-gzip-1", 1usize),
        ("truncated-gzip-10", 10),
        ("truncated-gzip-half", good.len() / 2),
    ] {
        all.push((cut_name, good[..cut.min(good.len())].to_vec(), true));
    }
    // Only the length field of the trailer is missing: all the data is there.
    all.push((
        "truncated-gzip-trailer",
        good[..good.len() - 4].to_vec(),
        false,
    ));
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"trailing garbage after the gzip stream");
    all.push(("trailing-garbage", trailing, false));
    let mut two = good.clone();
    two.extend_from_slice(&gzip(&t().file(b"p/templates/second.yaml", b"x").end()));
    all.push(("multi-member", two, false));
    all.push(("plain-tar", t().chart().end(), true));
    all.push(("zip-magic", b"PK\x03\x04not really a zip".to_vec(), true));
    all.push((
        "random",
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect(),
        true,
    ));
    all.push(("empty", Vec::new(), true));
    all.push(("text", b"apiVersion: v2\nname: p\n".to_vec(), true));
    all.push((
        "gzip-of-garbage",
        gzip(b"this is not a tar archive at all, just words"),
        true,
    ));
    all.push(("gzip-empty", gzip(b""), true));
    all.push(("zero-bomb-200m", zero_bomb(200 << 20), true));
    all.push(("zero-bomb-6m-file", zero_bomb(6 << 20), true));
    let mut many = t();
    many.chart();
    for i in 0..12_000 {
        many.file(format!("p/files/f{i}").as_bytes(), b"");
    }
    all.push(("many-entries", gzip(&many.end()), true));
    all.push((
        "dup-chart-yaml",
        gzip(
            &t().chart()
                .file(
                    b"p/Chart.yaml",
                    b"apiVersion: v2\nname: q\nversion: 9.9.9\n",
                )
                .end(),
        ),
        true,
    ));
    all.push((
        "dup-normalised",
        gzip(&t().chart().file(b"./p//templates/cm.yaml", b"x").end()),
        true,
    ));
    all.push((
        "no-chart-yaml",
        gzip(&t().file(b"p/templates/cm.yaml", CM).end()),
        true,
    ));
    all.push((
        "chart-yaml-top",
        gzip(&t().file(b"Chart.yaml", CHART_YAML).end()),
        false,
    ));
    all.push((
        "two-top-dirs",
        gzip(&t().chart().file(b"q/Chart.yaml", CHART_YAML).end()),
        false,
    ));
    all.push((
        "chart-yaml-is-dir",
        gzip(
            &t().header(b"p/Chart.yaml", b'5', 0, b"")
                .file(b"p/Chart.yaml/x", b"x")
                .end(),
        ),
        true,
    ));
    // Read into memory, `p/Chart.yaml` and `p/Chart.yaml/x` are two files (as in Helm).
    all.push((
        "file-under-file",
        gzip(&t().chart().file(b"p/Chart.yaml/x", b"x").end()),
        false,
    ));
    all.push((
        "chart-name-dotdot",
        gzip(
            &t().file(
                b"p/Chart.yaml",
                b"apiVersion: v2\nname: ../..\nversion: 0.1.0\n",
            )
            .end(),
        ),
        true,
    ));
    all.push((
        "chart-yaml-bomb",
        gzip(
            &t().file(
                b"p/Chart.yaml",
                format!(
                    "apiVersion: v2\nname: p\nversion: 0.1.0\nannotations: {}1{}\n",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                )
                .as_bytes(),
            )
            .end(),
        ),
        true,
    ));
    all.into_iter()
        .map(|(n, d, f)| (n.to_string(), d, f))
        .collect()
}

/// Probes over local archives: `template`, `show chart`, and the archive as a subchart in `charts/`.
pub fn local_probes(archives: &[(String, Vec<u8>, bool)]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (name, data, refuse) in archives {
        let mut template = Probe::new(format!("{name}/template"), &["template", "r", "x.tgz"])
            .file("x.tgz", data.clone());
        let mut show = Probe::new(format!("{name}/show"), &["show", "chart", "x.tgz"])
            .file("x.tgz", data.clone());
        let mut nested = Probe::new(format!("{name}/subchart"), &["template", "r", "c"])
            .file("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n")
            .file("c/charts/p-0.1.0.tgz", data.clone());
        if *refuse {
            template = template.fails();
            nested = nested.fails();
            if name.starts_with("dotdot") || name.starts_with("symlink") || name.contains("bomb") {
                show = show.fails();
            }
        } else if name == "baseline" {
            template = template.succeeds();
            show = show.succeeds();
            nested = nested.succeeds();
        }
        probes.extend([template, show, nested]);
    }
    probes
}

/// Probes that unpack: `pull --untar` from a loopback repository serving every archive as
/// chart `aN`.
pub fn pull_probes(archives: &[(String, Vec<u8>, bool)], repo_dir: &Path, url: &str) -> Vec<Probe> {
    use sha2::Digest as _;
    let mut index = String::from("apiVersion: v1\nentries:\n");
    let mut probes = Vec::new();
    for (i, (name, data, refuse)) in archives.iter().enumerate() {
        let chart = format!("a{i}");
        std::fs::write(repo_dir.join(format!("{chart}-0.1.0.tgz")), data).expect("write archive");
        index.push_str(&format!(
            "  {chart}:\n  - apiVersion: v2\n    name: {chart}\n    version: 0.1.0\n    digest: {}\n    urls: [{chart}-0.1.0.tgz]\n",
            hex::encode(sha2::Sha256::digest(data))
        ));
        for untardir in [".", "p"] {
            let mut probe = Probe::new(
                format!("{name}/pull-untar/{untardir}"),
                &[
                    "pull",
                    &chart,
                    "--repo",
                    url,
                    "--plain-http",
                    "--untar",
                    "-d",
                    "out",
                    "--untardir",
                    untardir,
                ],
            );
            // `pull --untar` unpacks without loading the chart (Helm loads it first and so
            // refuses these too); nothing it writes leaves the target, which is checked.
            let chart_content = [
                "no-chart-yaml",
                "chart-yaml-is-dir",
                "chart-name-dotdot",
                "chart-yaml-bomb",
            ]
            .contains(&name.as_str());
            if *refuse && !chart_content {
                probe = probe.fails();
            } else if name == "baseline" {
                probe = probe.succeeds();
            }
            probes.push(probe);
        }
        // A symbolic link planted in the target must not be followed.
        probes.push(
            Probe::new(
                format!("{name}/pull-untar/planted-link"),
                &[
                    "pull",
                    &chart,
                    "--repo",
                    url,
                    "--plain-http",
                    "--untar",
                    "-d",
                    "out",
                ],
            )
            .setup(|dir| {
                std::fs::create_dir_all(dir.join("out")).expect("out");
                std::fs::create_dir_all(dir.join("elsewhere")).expect("elsewhere");
                std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("out/p"))
                    .expect("plant a link");
            }),
        );
    }
    std::fs::write(repo_dir.join("index.yaml"), index).expect("write index");
    probes
}
