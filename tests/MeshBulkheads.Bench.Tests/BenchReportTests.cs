using System.Text.Json;

namespace MeshBulkheads.Bench.Tests;

/// <summary>docs/benchmarks.md from a fixed docs/benchmarks.json: aims met and missed, ratios, part order.</summary>
public sealed class BenchReportTests
{
    // As scripts/bench.sh writes it (jq), parts in the order they finished, not the document's.
    private const string Results = """
        {
          "parts": {
            "bulkhead": {
              "status": "measured",
              "date": "2026-12-02T08:00:00Z",
              "command": "make bench ONLY=bulkhead",
              "figures": [
                { "name": "Bulkhead_AttemptAcquire mean", "value": 190.1, "unit": "ns", "aim": { "op": "<=", "value": 100 }, "why": "two timestamps per grant" },
                { "name": "Bulkhead_AttemptAcquire allocated", "value": 0, "unit": "B", "aim": { "op": "==", "value": 0 }, "why": "never shown: met" }
              ],
              "raw": [ { "method": "Bulkhead_AttemptAcquire", "meanNs": 190.1 } ]
            },
            "gateway": {
              "status": "measured",
              "date": "2026-12-02T07:50:00Z",
              "command": "BENCH_SHORT=1 make bench",
              "label": "SHORT mode: not a measurement.",
              "machine": { "cores": 2, "cpu": "AMD EPYC", "os": "Debian GNU/Linux 12 (bookworm)", "dotnet": "10.0.401", "loadAverage": "5.10" },
              "figures": [
                { "name": "our gateway ÷ bare YARP (throughput)", "value": 0.7, "unit": "×", "aim": { "op": ">=", "value": 0.9 }, "how": "OK/s at payments", "why": "every feature runs on every call" },
                { "name": "our gateway ÷ nginx grpc_pass (throughput)", "value": 1.62, "unit": "×", "aim": { "op": ">=", "value": 1.5 } },
                { "name": "direct (payments alone)", "value": 53012.4, "unit": "OK/s" },
                { "name": "added p99 over direct", "value": null, "unit": "ms", "why": "meshload's run was invalid" }
              ],
              "tables": [
                { "title": "Throughput per path", "columns": ["path", "OK/s"], "rows": [["direct", 53012.4], ["nginx|grpc", null]] }
              ]
            },
            "memory": { "status": "not-implemented", "summary": "not wired in yet" }
          }
        }
        """;

    private static string Render() =>
        BenchReport.Render(JsonSerializer.Deserialize<BenchResults>(Results, BenchReport.Json)!);

    [Theory]
    // A missed aim: marked in the table, then the measured value, the aim and the harness's why.
    [InlineData("| our gateway ÷ bare YARP (throughput) | 0.7× | >= 0.9× | **missed** |")]
    [InlineData("- **Missed: our gateway ÷ bare YARP (throughput)** — 0.7× against an aim of >= 0.9×. Why: every feature runs on every call")]
    [InlineData("| Bulkhead_AttemptAcquire mean | 190 ns | <= 100 ns | **missed** |")]
    // A met aim, including an exact zero.
    [InlineData("| our gateway ÷ nginx grpc_pass (throughput) | 1.62× | >= 1.5× | met |")]
    [InlineData("| Bulkhead_AttemptAcquire allocated | 0 B | == 0 B | met |")]
    // No value: not measured, with why; no aim: for information.
    [InlineData("| added p99 over direct | — | — | not measured |")]
    [InlineData("- **Not measured: added p99 over direct**. Why: meshload's run was invalid")]
    [InlineData("| direct (payments alone) | 53,012 OK/s | — | for information |")]
    // A part not implemented yet says so, in the summary and in its section.
    [InlineData("| [Memory](#memory) | not-implemented | 0 | 0 | 0 | 0 |")]
    [InlineData("**Not implemented yet**: `make bench ONLY=memory` prints so and measures nothing.")]
    // Tables: numbers formatted, null as a dash, a pipe in a cell escaped.
    [InlineData("| direct | 53,012 |")]
    [InlineData("| nginx\\|grpc | — |")]
    public void Render_Figure_LineAsExpected(string expected)
    {
        // Act
        var markdown = Render();

        // Assert
        Assert.Contains(expected, markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_MetAim_NoWhyShown()
    {
        // Act
        var markdown = Render();

        // Assert
        Assert.DoesNotContain("never shown: met", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("Missed: our gateway ÷ nginx", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Parts_InTheIssuesOrderWithTheirRunLabelAndCounts()
    {
        // Act
        var markdown = Render();

        // Assert: gateway (finished second) comes first; each part keeps its own run and label.
        var gateway = markdown.IndexOf("## Gateway cost", StringComparison.Ordinal);
        var memory = markdown.IndexOf("## Memory", StringComparison.Ordinal);
        var bulkhead = markdown.IndexOf("## Bulkhead acquire/release", StringComparison.Ordinal);
        Assert.True(gateway >= 0 && gateway < memory && memory < bulkhead, markdown);
        Assert.Contains("> SHORT mode: not a measurement.", markdown, StringComparison.Ordinal);
        Assert.Contains("Run: 2026-12-02T07:50:00Z, `BENCH_SHORT=1 make bench`.", markdown, StringComparison.Ordinal);
        Assert.Contains("Machine: 2 cores (AMD EPYC), Debian GNU/Linux 12 (bookworm), .NET SDK 10.0.401, load average 5.10 at the start.", markdown, StringComparison.Ordinal);
        Assert.Contains("| [Gateway cost](#gateway-cost) | 2026-12-02T07:50:00Z | 4 | 1 | 1 | 1 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| [Bulkhead acquire/release](#bulkhead-acquirerelease) | 2026-12-02T08:00:00Z | 2 | 1 | 1 | 0 |", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<=", 100, 100, true)]
    [InlineData("<=", 100, 100.5, false)]
    [InlineData("<", 1, 1, false)]
    [InlineData(">=", 0.9, 0.9, true)]
    [InlineData(">=", 0.9, 0.89, false)]
    [InlineData(">", 0, 0, false)]
    [InlineData("==", 0, 0, true)]
    [InlineData("==", 0, 72, false)]
    public void IsMetBy_EachOperator(string op, double aim, double value, bool met)
    {
        // Act
        var actual = new BenchAim { Op = op, Value = aim }.IsMetBy(value);

        // Assert
        Assert.Equal(met, actual);
    }

    [Fact]
    public void IsMetBy_UnknownOperator_Refused()
    {
        // Act
        var error = Assert.Throws<FormatException>(() => new BenchAim { Op = "~", Value = 1 }.IsMetBy(1));

        // Assert
        Assert.Contains("'~'", error.Message, StringComparison.Ordinal);
    }
}
