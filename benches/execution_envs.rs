//! Parse time of execution environments' outputs (issue 15): a 100 MB strace log (the
//! strace parser, line by line from the file, as `parse_artifacts` reads it) and a Valgrind
//! XML report with 10,000 errors (memcheck's shape, which helgrind shares). Each is measured
//! beside a peer on the same bytes: reading the log's lines without parsing them, and
//! roxmltree building the XML tree without reading it. Figures go in docs/PERFORMANCE.md.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use panther::env::execution::{parse_artifacts, valgrind};

/// About `bytes` of `strace -f -ttt -yy` network lines, as the strace plugin writes them.
fn strace_log(path: &std::path::Path, bytes: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0;
    let mut t = 1_764_000_000.000_001_f64;
    let mut i = 0u64;
    while written < bytes {
        t += 0.000_013;
        let line = if i.is_multiple_of(2) {
            format!(
                "4242  {t:.6} recvfrom(3<UDP:[127.0.0.1:8080]>, \"\\x01\\x00\\x00\\x00\\x{:02x}\\x00\\x04ping\", 65536, 0, {{sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr(\"127.0.0.1\")}}, [16]) = 11\n",
                i % 256
            )
        } else {
            format!(
                "4242  {t:.6} sendto(3<UDP:[127.0.0.1:8080]>, \"\\x02\\x00\\x00\\x00\\x{:02x}\\x00\\x04ping\", 11, 0, {{sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr(\"127.0.0.1\")}}, 16) = 11\n",
                i % 256
            )
        };
        f.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    f.write_all(b"4242  1764000999.000000 +++ exited with 0 +++\n")
        .unwrap();
}

/// A memcheck report with `n` distinct errors, each with a three-frame stack and a note.
fn valgrind_xml(n: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<valgrindoutput>\n<protocolversion>4</protocolversion>\n<protocoltool>memcheck</protocoltool>\n<pid>7</pid>\n<ppid>1</ppid>\n<tool>memcheck</tool>\n<args>\n  <vargv><exe>/usr/bin/valgrind</exe><arg>--xml=yes</arg></vargv>\n  <argv><exe>./srv</exe></argv>\n</args>\n<status><state>RUNNING</state><time>00:00:00:00.1</time></status>\n",
    );
    for i in 0..n {
        s.push_str(&format!("<error>\n  <unique>0x{i:x}</unique>\n  <tid>1</tid>\n  <kind>InvalidRead</kind>\n  <what>Invalid read of size 4</what>\n  <stack>\n    <frame><ip>0x{i:x}</ip><obj>/srv</obj><fn>parse_{i}</fn><dir>/src</dir><file>p.c</file><line>{i}</line></frame>\n    <frame><ip>0x2</ip><obj>/srv</obj><fn>handle</fn><dir>/src</dir><file>h.c</file><line>9</line></frame>\n    <frame><ip>0x3</ip><obj>/srv</obj><fn>main</fn><dir>/src</dir><file>m.c</file><line>3</line></frame>\n  </stack>\n  <auxwhat>Address 0x4a is 0 bytes after a block of size 10 alloc'd</auxwhat>\n</error>\n"));
    }
    s.push_str("<status><state>FINISHED</state><time>00:00:01:00.0</time></status>\n<errorcounts>\n</errorcounts>\n</valgrindoutput>\n");
    s
}

fn parsers(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("strace.log");
    strace_log(&log, 100 << 20);
    let mut g = c.benchmark_group("execution_envs");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("strace_100MB_parse_artifacts", |b| {
        b.iter(|| black_box(parse_artifacts("strace", dir.path(), "s").events.len()))
    });
    g.bench_function("strace_100MB_peer_read_lines", |b| {
        b.iter(|| {
            let r = BufReader::new(std::fs::File::open(&log).unwrap());
            black_box(r.split(b'\n').count())
        })
    });
    let xml = valgrind_xml(10_000);
    eprintln!("valgrind XML: {} bytes", xml.len());
    g.bench_function("valgrind_10000_errors_parse", |b| {
        b.iter(|| black_box(valgrind::parse_memcheck_xml(&xml).unwrap().errors.len()))
    });
    g.bench_function("valgrind_10000_errors_peer_roxmltree", |b| {
        b.iter(|| {
            black_box(
                roxmltree::Document::parse(&xml)
                    .unwrap()
                    .descendants()
                    .count(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
