using System.Text.Json.Nodes;

namespace MeshBulkheads.Chaos.Tests;

/// <summary>The journal layout of docs/chaos-journal.md, checked field by field (the contract with k8s/chaos/lib.sh).</summary>
internal static class JournalShape
{
    private static readonly string[] Statuses = ["completed", "failed", "aborted", "interrupted"];

    public static void AssertValid(JsonObject journal)
    {
        Assert.Equal("meshbulkheads-chaos/1", (string?)journal["chaoslib-version"]);
        Assert.Contains((string?)journal["platform"], new[] { "local", "kubernetes" });
        var experiment = Assert.IsType<JsonObject>(journal["experiment"]);
        Assert.False(string.IsNullOrEmpty((string?)experiment["id"]));
        Assert.False(string.IsNullOrEmpty((string?)experiment["title"]));
        Assert.Contains((string?)experiment["control"], new[] { "protected", "unprotected" });
        Assert.Equal((string?)experiment["control"] == "unprotected" ? "deviate" : "hold", (string?)experiment["expect"]);
        Assert.IsType<JsonArray>(experiment["steady-state-hypothesis"]?["probes"]);
        Assert.IsType<JsonArray>(experiment["method"]);
        Assert.IsType<JsonArray>(experiment["rollbacks"]);
        Assert.True(DateTimeOffset.TryParse((string?)journal["start"], out _));
        Assert.True(DateTimeOffset.TryParse((string?)journal["end"], out _));
        Assert.True(journal["duration"]!.GetValue<double>() >= 0);
        Assert.Contains((string?)journal["status"], Statuses);
        _ = journal["deviated"]!.GetValue<bool>();
        var steady = Assert.IsType<JsonObject>(journal["steady_states"]);
        var before = Assert.IsType<JsonObject>(steady["before"]);
        _ = before["steady_state_met"]!.GetValue<bool>();
        foreach (var probe in Assert.IsType<JsonArray>(before["probes"]))
        {
            AssertRun(probe!.AsObject(), probe: true);
        }

        if (steady["after"] is JsonObject after)
        {
            Assert.Equal(!journal["deviated"]!.GetValue<bool>(), after["steady_state_met"]!.GetValue<bool>());
            foreach (var probe in Assert.IsType<JsonArray>(after["probes"]))
            {
                AssertRun(probe!.AsObject(), probe: true);
            }
        }

        Assert.IsType<JsonArray>(steady["during"]);
        foreach (var run in Assert.IsType<JsonArray>(journal["run"]))
        {
            AssertRun(run!.AsObject(), probe: false);
        }

        foreach (var run in Assert.IsType<JsonArray>(journal["rollbacks"]))
        {
            AssertRun(run!.AsObject(), probe: false);
        }

        foreach (var m in Assert.IsType<JsonArray>(journal["measurements"]))
        {
            Assert.False(string.IsNullOrEmpty((string?)m!["name"]));
            Assert.NotNull((string?)m["unit"]);
        }

        var verdict = Assert.IsType<JsonObject>(journal["verdict"]);
        _ = verdict["pass"]!.GetValue<bool>();
        Assert.False(string.IsNullOrEmpty((string?)verdict["text"]));
    }

    private static void AssertRun(JsonObject run, bool probe)
    {
        var activity = Assert.IsType<JsonObject>(run["activity"]);
        Assert.Equal(probe ? "probe" : "action", (string?)activity["type"]);
        Assert.False(string.IsNullOrEmpty((string?)activity["name"]));
        Assert.Contains((string?)run["status"], new[] { "succeeded", "failed" });
        if (probe)
        {
            Assert.NotNull((string?)activity["tolerance"]);
            _ = run["tolerance_met"]!.GetValue<bool>();
        }

        Assert.True(DateTimeOffset.TryParse((string?)run["start"], out _));
        Assert.True(run["duration"]!.GetValue<double>() >= 0);
    }
}
