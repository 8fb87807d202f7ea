using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace MeshBulkheads.Chaos.Tests.Cluster;

/// <summary>
/// Every k8s/chaos/*.sh without a cluster: their control flow run against a local mesh through k8s/chaos/shim/kubectl
/// and shim/helm — the journal's layout, the exit code following the hypothesis, each rollback once, a negative
/// control's chart change rolled back, SIGINT (exit 130, rollbacks once), and shims that refuse what they do not
/// implement. (Local processes stand for the pods — two gateways and two payments as the chart ships them — so whether
/// a hypothesis holds here says nothing about a cluster; that it is judged, journaled and rolled back correctly is
/// what is tested.) One shim mesh for the class (<see cref="ShimMesh"/>).
/// </summary>
[Collection(LiveMeshCollection.Name)]
[Trait(LiveMeshCollection.RunsTrait, LiveMeshCollection.Alone)]
public sealed class KubectlShimTests(ShimMesh mesh) : IClassFixture<ShimMesh>, IAsyncLifetime
{
    private readonly string _artifacts = Directory.CreateTempSubdirectory("k8s-chaos-").FullName;

    private string Progress => Path.Combine(_artifacts, "progress.log");

    public async ValueTask InitializeAsync()
    {
        // Every test starts from a mesh that serves: payments ready and available at the gateway again (a test before
        // may have ended with it replaced, e.g. the SIGINT test's drain).
        var (code, output) = await mesh.RunAsync(ShimMesh.Shim, ["-n", "meshbulkheads", "rollout", "status", "deployment/meshbulkheads-payments"], null, TimeSpan.FromSeconds(60));
        Assert.True(code == 0, "the shim mesh is not ready: " + output);
    }

    public ValueTask DisposeAsync()
    {
        TempDirectories.TryDelete(_artifacts);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Shims_VerbTheyDoNotImplement_Exit64()
    {
        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Shim, ["-n", "meshbulkheads", "get", "nodes"], _artifacts, TimeSpan.FromSeconds(10));
        var (yamlCode, yamlOutput) = await mesh.RunAsync(ShimMesh.Shim, ["-n", "meshbulkheads", "get", "networkpolicy", "meshbulkheads-reporting", "-o", "yaml"], _artifacts, TimeSpan.FromSeconds(10));
        var (helmCode, helmOutput) = await mesh.RunAsync(ShimMesh.HelmShim, ["install", "meshbulkheads", "helm/meshbulkheads"], _artifacts, TimeSpan.FromSeconds(10));
        var (valueCode, valueOutput) = await mesh.RunAsync(
            ShimMesh.HelmShim, ["upgrade", "meshbulkheads", Path.Combine(ShimMesh.Root, "helm", "meshbulkheads"), "-n", "meshbulkheads", "--reuse-values", "--set", "image.tag=next"], _artifacts, TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(64, code);
        Assert.Contains("unsupported: kubectl get nodes", output, StringComparison.Ordinal);
        Assert.Equal(64, yamlCode);
        Assert.Contains("unsupported: kubectl get networkpolicy", yamlOutput, StringComparison.Ordinal);
        Assert.Equal(64, helmCode);
        Assert.Contains("unsupported: helm install", helmOutput, StringComparison.Ordinal);
        Assert.Equal(64, valueCode);
        Assert.Contains("--set image.tag (no local meaning in the shim)", valueOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelmShim_ValueTheChartRefuses_FailsAndNothingRolls()
    {
        // Arrange
        var revision = File.ReadAllText(Path.Combine(mesh.State, "helm", "revision")).Trim();
        var payments = File.ReadAllText(Path.Combine(mesh.State, "payments.pid")).Trim();

        // Act: the schema types shutdown.hostShutdownTimeoutSeconds as an integer.
        var (code, output) = await mesh.RunAsync(
            ShimMesh.HelmShim, ["upgrade", "meshbulkheads", Path.Combine(ShimMesh.Root, "helm", "meshbulkheads"), "--reuse-values", "--wait", "--set-string", "shutdown.hostShutdownTimeoutSeconds=soon"], _artifacts, TimeSpan.FromSeconds(30));

        // Assert
        Assert.True(code == 1, output);
        Assert.Contains("UPGRADE FAILED", output, StringComparison.Ordinal);
        Assert.Equal(revision, File.ReadAllText(Path.Combine(mesh.State, "helm", "revision")).Trim());
        Assert.Equal(payments, File.ReadAllText(Path.Combine(mesh.State, "payments.pid")).Trim());
    }

    [Fact]
    public async Task DeletePaymentsPod_ThroughTheShim_JournalLayoutAndExitCodeFollowTheHypothesis()
    {
        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("delete-payments-pod.sh"), [], _artifacts, TimeSpan.FromSeconds(120));

        // Assert
        var journal = SingleJournal(output);
        Assert.Equal("completed", (string?)journal["status"]);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Contains(journal["run"]!.AsArray(), r => ((string?)r!["activity"]!["name"])!.StartsWith("delete pod payments-", StringComparison.Ordinal));
        AssertEachRollbackOnce(journal, "delete job/meshbulkheads-chaos-during");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "every acknowledged charge is in the ledger exactly once");
        Assert.Contains("journal: ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DrainNode_ThroughTheShim_EvictionsThroughThePdbAndEachRollbackOnce()
    {
        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("drain-node.sh"), [], _artifacts, TimeSpan.FromSeconds(120));

        // Assert: two payments processes and the chart's PDB (maxUnavailable 1): the shim's drain evicts one at a time,
        // the next once the first is replaced and ready, so the sampled ready replicas never fall below one.
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        var pdb = AfterProbes(journal).Single(p => (string?)p["activity"]!["name"] == "the PodDisruptionBudget was respected");
        Assert.True(pdb["tolerance_met"]!.GetValue<bool>(), pdb.ToJsonString() + mesh.Events());
        Assert.Equal(2, pdb["output"]!["replicas"]!.GetValue<int>());
        Assert.Contains(journal["run"]!.AsArray(), r => (string?)r!["activity"]!["name"] == "drain the payments pods off shim-node" && (string?)r["status"] == "succeeded");
        AssertEachRollbackOnce(journal, "uncordon shim-node", "delete job/meshbulkheads-chaos-during", "stop sampling the ready replicas");
        Assert.False(File.Exists(Path.Combine(mesh.State, "cordoned")), "the node is still cordoned after the rollback");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "every acknowledged charge is in the ledger exactly once");
    }

    [Fact]
    public async Task PaymentsLatency_ThroughTheShim_FaultsFileAtEveryPodsGenerationAndClearedOnce()
    {
        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("payments-latency.sh"), [], _artifacts, TimeSpan.FromSeconds(150));

        // Assert
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Contains(journal["run"]!.AsArray(), r => ((string?)r!["activity"]!["name"])!.StartsWith("store latency 500 ms on payments", StringComparison.Ordinal) && (string?)r["status"] == "succeeded");
        Assert.Equal("store latency 500 ms on every payments pod", (string?)journal["context"]!["fault_active"]!["what"]);
        AssertEachRollbackOnce(journal, "clear the faults ConfigMap (k8s/faults.sh clear)", "delete job/meshbulkheads-chaos-during");
        var faults = JsonNode.Parse(File.ReadAllText(Path.Combine(mesh.State, "faults", "faults.json")))!;
        Assert.Empty(faults["faults"]!.AsArray());
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "the circuit breaker opened");
    }

    [Fact]
    public async Task TenantFloodReporting_ThroughTheShims_JudgedAndEachRollbackOnce()
    {
        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("tenant-flood-reporting.sh"), [], _artifacts, TimeSpan.FromSeconds(120), Long("6s"));

        // Assert
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Equal("globex's flood reaches the gateway", (string?)journal["context"]!["fault_active"]!["what"]);
        AssertEachRollbackOnce(journal, "delete job/meshbulkheads-chaos-during");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "initech-reads within its SLO");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "the flood was shed with reasons");
    }

    [Fact]
    public async Task TenantFloodReporting_UnprotectedThroughTheHelmShim_ChartChangedThenRolledBackOnce()
    {
        // Arrange
        var revision = int.Parse(File.ReadAllText(Path.Combine(mesh.State, "helm", "revision")), CultureInfo.InvariantCulture);
        string[] slots = ["gateway", "gateway-2", "payments", "payments-2", "reporting", "render"];
        var generations = slots.ToDictionary(slot => slot, slot => mesh.Generation(slot));

        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("tenant-flood-reporting.sh"), ["--unprotected"], _artifacts, TimeSpan.FromSeconds(200), Long("6s"));

        // Assert: the control switched the bulkheads off in every process (a helm upgrade that rolled them), and the
        // rollback to the revision before put every process back on the chart as it was.
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Contains(journal["run"]!.AsArray(), r => ((string?)r!["activity"]!["name"])!.StartsWith("no bulkheads anywhere (the negative control)", StringComparison.Ordinal) && (string?)r["status"] == "succeeded");
        AssertEachRollbackOnce(journal, $"helm rollback meshbulkheads {revision}", "delete job/meshbulkheads-chaos-during");
        Assert.Equal(revision + 2, int.Parse(File.ReadAllText(Path.Combine(mesh.State, "helm", "revision")), CultureInfo.InvariantCulture));
        var events = mesh.Events(int.MaxValue);
        foreach (var slot in slots)
        {
            // Every replica, not only the second (a rollout once skipped the first): a process of the control's template
            // was started in each slot, and the slot now runs the rolled-back one.
            Assert.True(
                events.Split('\n').Any(e => e.Contains($" started {slot}: ", StringComparison.Ordinal) && e.Contains($", generation {generations[slot] + 1}", StringComparison.Ordinal)),
                $"no {slot} process ran the control's pod template (generation {generations[slot] + 1}){mesh.Events()}");
            Assert.Equal(generations[slot] + 2, mesh.ProcessTemplate(slot));
            Assert.False(
                mesh.ProcessEnvironment(slot).Any(v => v.StartsWith("Mesh__Pitfalls__NoBulkheads=", StringComparison.Ordinal)),
                $"{slot} still has the control's Mesh__Pitfalls__NoBulkheads after the rollback{mesh.Events()}");
        }
    }

    [Fact]
    public async Task KillPostgres_ThroughTheShim_StatefulSetPodReplacedAndLedgerAudited()
    {
        // Arrange
        var uid = File.ReadAllText(Path.Combine(mesh.State, "postgresql.uid")).Trim();

        // Act: 12 s of charges, so some fall after PostgreSQL is back (the recovery probe needs them).
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("kill-postgres.sh"), [], _artifacts, TimeSpan.FromSeconds(150), Long("12s"));

        // Assert
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Contains(journal["run"]!.AsArray(), r => (string?)r!["activity"]!["name"] == "delete pod meshbulkheads-postgresql-0" && (string?)r["status"] == "succeeded");
        Assert.NotEqual(uid, File.ReadAllText(Path.Combine(mesh.State, "postgresql.uid")).Trim());
        AssertEachRollbackOnce(journal, "PostgreSQL Ready again", "delete job/meshbulkheads-chaos-during");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "every acknowledged charge is in the ledger exactly once");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "nothing half-written" && p["tolerance_met"]!.GetValue<bool>());
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "payments was not restarted");
    }

    [Fact]
    public async Task CutReportingPayments_ThroughTheShim_PolicyCutVerifiedThenRestored()
    {
        // Act
        var (code, output) = await mesh.RunAsync(ShimMesh.Script("cut-reporting-payments.sh"), [], _artifacts, TimeSpan.FromSeconds(150), Long("4s"));

        // Assert: the cut was verified (short reports all failed) before measuring, and the rule is back afterwards.
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Equal("reporting → payments cut", (string?)journal["context"]!["fault_active"]!["what"]);
        AssertEachRollbackOnce(journal, "restore reporting's egress to payments (meshbulkheads-reporting)", "delete job/meshbulkheads-chaos-during");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "every report across the cut ended by the mesh's deadline");
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "reports succeed again after the cut heals");
        Assert.False(File.Exists(Path.Combine(mesh.State, "netpol-cut")), "reporting is still cut from payments");
        var (policyCode, policy) = await mesh.RunAsync(ShimMesh.Shim, ["-n", "meshbulkheads", "get", "networkpolicy", "meshbulkheads-reporting", "-o", "json"], null, TimeSpan.FromSeconds(10));
        Assert.Equal(0, policyCode);
        Assert.Contains("\"payments\"", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelmUpgrade_ThroughTheShims_EveryDeploymentRolledAndRolledBackOnce()
    {
        // Arrange
        var revision = int.Parse(File.ReadAllText(Path.Combine(mesh.State, "helm", "revision")), CultureInfo.InvariantCulture);
        var generations = Deployments.ToDictionary(d => d, Generation);

        // Act
        var (code, output) = await mesh.RunAsync(
            ShimMesh.Script("helm-upgrade.sh"), [], _artifacts, TimeSpan.FromSeconds(150), new Dictionary<string, string> { ["CHAOS_UPGRADE_DURATION"] = "8s" });

        // Assert: the upgrade and the rollback each rolled every Deployment (a pod annotation, then none).
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Equal("the rollout of 4 Deployments has begun", (string?)journal["context"]!["fault_active"]!["what"]);
        AssertEachRollbackOnce(journal, $"helm rollback meshbulkheads {revision}", "delete job/meshbulkheads-chaos-during");
        Assert.All(Deployments, d => Assert.Equal(generations[d] + 2, Generation(d)));
        Assert.All(Deployments, d => Assert.DoesNotContain("chaos-upgrade", File.ReadAllText(Path.Combine(mesh.State, "env", d)), StringComparison.Ordinal));
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "every acknowledged charge is in the ledger exactly once");
    }

    [Fact]
    public async Task RenderCpuBurnHpa_ThroughTheShim_HpaScalesOutAndEachPodsShareJournaled()
    {
        // Act
        var (code, output) = await mesh.RunAsync(
            ShimMesh.Script("render-cpu-burn-hpa.sh"), [], _artifacts, TimeSpan.FromSeconds(150), new Dictionary<string, string> { ["CHAOS_BURN_DURATION"] = "12s" });

        // Assert: the shim's HPA added the second render process, and each render pod's share comes from its own /metrics.
        var journal = SingleJournal(output);
        Assert.True((string?)journal["status"] == "completed", output);
        Assert.Equal(journal["deviated"]!.GetValue<bool>() ? 1 : 0, code);
        Assert.Contains(AfterProbes(journal), p => (string?)p["activity"]!["name"] == "the HPA scaled render out" && p["tolerance_met"]!.GetValue<bool>());
        var shares = AfterProbes(journal).Single(p => (string?)p["activity"]!["name"] == "the new render pods receive traffic")["output"]!.AsObject();
        Assert.Equal(2, shares.Count);
        Assert.Single(shares, s => s.Value!["new"]!.GetValue<bool>());
        AssertEachRollbackOnce(journal, "delete job/meshbulkheads-chaos-during");
    }

    [Fact]
    public async Task DrainNode_SigintOnceTheFaultIsActive_Exit130AndEachRollbackOnce()
    {
        // Arrange: its own process group (setsid), so SIGINT reaches the script and its foreground children, as Ctrl-C would.
        var start = mesh.StartInfo("setsid", [ShimMesh.Script("drain-node.sh")], _artifacts);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.True(await PollAsync(() => ProcessGroup(process.Id) == process.Id, TimeSpan.FromSeconds(5)), "setsid did not make the script a process group leader");
        var active = await PollAsync(() => File.Exists(Progress) && File.ReadAllText(Progress).Contains(" fault-active ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.True(active, "no fault-active line in the progress file: " + (File.Exists(Progress) ? File.ReadAllText(Progress) : "(none)"));

        // Act
        using (var kill = Process.Start("kill", ["-INT", "--", "-" + process.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var text = await output + await error;

        // Assert
        Assert.Equal(130, process.ExitCode);
        var journal = SingleJournal(text);
        Assert.Equal("interrupted", (string?)journal["status"]);
        Assert.False(journal["verdict"]!["pass"]!.GetValue<bool>());
        AssertEachRollbackOnce(journal, "uncordon shim-node", "delete job/meshbulkheads-chaos-during");
        var rollbackLines = File.ReadAllLines(Progress).Where(l => l.Contains(" rollback ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(journal["rollbacks"]!.AsArray().Count, rollbackLines.Length);
        Assert.False(File.Exists(Path.Combine(mesh.State, "cordoned")), "the node is still cordoned after the interrupt");
        Assert.Contains(File.ReadAllLines(Progress), l => l.Contains(" exit interrupted ", StringComparison.Ordinal));
    }

    private static readonly string[] Deployments = ["gateway", "payments", "reporting", "render"];

    private static Dictionary<string, string> Long(string duration) => new() { ["CHAOS_DURATION"] = duration };

    private int Generation(string deployment)
    {
        var file = Path.Combine(mesh.State, "generation", deployment);
        return File.Exists(file) ? int.Parse(File.ReadAllText(file), CultureInfo.InvariantCulture) : 1;
    }

    private static int ProcessGroup(int pid)
    {
        // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so count from the closing parenthesis.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[2], CultureInfo.InvariantCulture);
    }

    private static async Task<bool> PollAsync(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        return condition();
    }

    private static void AssertEachRollbackOnce(JsonObject journal, params string[] expected)
    {
        var rollbacks = journal["rollbacks"]!.AsArray().Select(r => (string?)r!["activity"]!["name"]).ToArray();
        Assert.Equal(rollbacks.Length, rollbacks.Distinct().Count());
        var registered = journal["experiment"]!["rollbacks"]!.AsArray().Select(r => (string?)r!["name"]).Order().ToArray();
        Assert.Equal(registered, rollbacks.Order().ToArray());
        foreach (var name in expected)
        {
            Assert.Contains(name, rollbacks);
        }
    }

    private static IEnumerable<JsonObject> AfterProbes(JsonObject journal) =>
        journal["steady_states"]!["after"]!["probes"]!.AsArray().Select(p => p!.AsObject());

    private JsonObject SingleJournal(string output)
    {
        var files = Directory.GetFiles(_artifacts, "*.json");
        Assert.True(files.Length == 1, $"{files.Length} journals; output: {output}");
        var journal = JsonNode.Parse(File.ReadAllText(files[0]))!.AsObject();
        JournalShape.AssertValid(journal);
        Assert.Equal("kubernetes", (string?)journal["platform"]);
        return journal;
    }
}
