//! The generated experiment the foundation and workbench benchmarks share.

/// A 200-test experiment in PANTHER's shape: two services per test, a link, a wrapper.
pub fn generate_experiment(tests: usize) -> String {
    let mut s = String::from("logging: {level: INFO}\npaths: {output_dir: outputs}\ntests:\n");
    for i in 0..tests {
        let lines = [
            format!("  - name: test_{i}"),
            format!("    description: generated test {i}"),
            "    network_environment:".to_string(),
            "      type: localhost".to_string(),
            format!(
                "      link: {{delay_ms: {}, jitter_ms: 1, loss: 0.01}}",
                i % 50
            ),
            "    execution_environment: [{type: time}]".to_string(),
            "    iterations: 1".to_string(),
            "    timeout: 30".to_string(),
            "    services:".to_string(),
            format!("      server_{i}:"),
            "        implementation: {name: ping_pong, type: iut}".to_string(),
            "        protocol: {name: minip, version: functional, role: server}".to_string(),
            "        timeout: 20".to_string(),
            format!("      tester_{i}:"),
            "        implementation: {name: minip_tester, type: tester}".to_string(),
            format!(
                "        protocol: {{name: minip, version: functional, role: client, target: server_{i}}}"
            ),
            "        plugin_config: {count: 20}".to_string(),
            "    steps: {wait: 2}".to_string(),
            "    expect: pass".to_string(),
        ];
        for l in lines {
            s.push_str(&l);
            s.push('\n');
        }
    }
    s
}
