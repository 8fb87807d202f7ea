using System.Diagnostics;
using System.Globalization;
using MeshBulkheads.Testing.Processes;

namespace MeshBulkheads.Chaos.Tests.Cluster;

/// <summary>
/// The local mesh behind k8s/chaos/shim/kubectl and shim/helm (PostgreSQL, two payments processes on it, reporting,
/// render, two gateways, the Service relays; Debug build), started once for the class (<c>shim-up</c>) and stopped after it (<c>shim-down</c>): one
/// start instead of one per test. Runs the scripts with the shims as <c>KUBECTL</c> and <c>HELM</c> and short phases.
/// </summary>
public sealed class ShimMesh : IAsyncLifetime
{
    public string State { get; } = Directory.CreateTempSubdirectory("kubectl-shim-").FullName;

    public static string Root => RepositoryLayout.Root;

    public static string Shim => Path.Combine(Root, "k8s", "chaos", "shim", "kubectl");

    public static string HelmShim => Path.Combine(Root, "k8s", "chaos", "shim", "helm");

    public static string Script(string name) => Path.Combine(Root, "k8s", "chaos", name);

    public async ValueTask InitializeAsync()
    {
        var (code, output) = await RunAsync(Shim, ["shim-up"], artifacts: null, TimeSpan.FromSeconds(120));
        // The hosts' logs go with the state directory when the fixture is disposed: a failed start keeps their ends here.
        Assert.True(code == 0, "shim-up failed: " + output + HostLogTails());
    }

    /// <summary>The environment of the process in a slot of the shim mesh (gateway, payments, reporting, render).</summary>
    public IReadOnlyList<string> ProcessEnvironment(string slot)
    {
        var pid = File.ReadAllText(Path.Combine(State, slot + ".pid")).Trim();
        return File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The generation of a slot's Deployment (<c>payments-2</c>: payments'), 1 before its first rollout.</summary>
    public int Generation(string slot)
    {
        var file = Path.Combine(State, "generation", slot.EndsWith("-2", StringComparison.Ordinal) ? slot[..^2] : slot);
        return File.Exists(file) ? int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture) : 1;
    }

    /// <summary>The generation of the pod template the slot's process was started from.</summary>
    public int ProcessTemplate(string slot) => int.Parse(File.ReadAllText(Path.Combine(State, slot + ".generation")).Trim(), CultureInfo.InvariantCulture);

    /// <summary>The shim's events.log (which process started, or was signalled, when), for an assertion's message.</summary>
    public string Events(int lines = 60)
    {
        var file = Path.Combine(State, "events.log");
        return File.Exists(file) ? $"{Environment.NewLine}--- events.log (last {lines} lines){Environment.NewLine}{string.Join(Environment.NewLine, File.ReadLines(file).TakeLast(lines))}" : string.Empty;
    }

    /// <summary>The last lines of every host's log in <see cref="State"/> (why a host died: an abort, a port in use, …).</summary>
    public string HostLogTails(int lines = 40)
    {
        var tails = Directory.EnumerateFiles(State, "*.log").Order(StringComparer.Ordinal).Select(file =>
        {
            var tail = File.ReadLines(file).TakeLast(lines);
            return $"{Environment.NewLine}--- {Path.GetFileName(file)} (last {lines} lines){Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
        });
        return string.Concat(tails);
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync(Shim, ["shim-down"], artifacts: null, TimeSpan.FromSeconds(30));
        TempDirectories.TryDelete(State);
    }

    /// <summary>A process with the experiments' environment: the shim, its state, the artifacts directory, short phases.</summary>
    public ProcessStartInfo StartInfo(string file, IReadOnlyList<string> arguments, string? artifacts, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Root };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CHAOS_SHIM_STATE"] = State;
        start.Environment["KUBECTL"] = Shim;
        start.Environment["HELM"] = HelmShim;
        start.Environment["CHAOS_DURATION"] = "3s";
        start.Environment["CHAOS_STEADY"] = "1s";
        start.Environment["CHAOS_FAULT_AFTER"] = "2";
        start.Environment["FAULTS_POLL"] = "0.3";
        start.Environment["FAULTS_TIMEOUT"] = "30";
        if (artifacts is not null)
        {
            start.Environment["CHAOS_ARTIFACTS"] = artifacts;
            start.Environment["CHAOS_PROGRESS"] = Path.Combine(artifacts, "progress.log");
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return start;
    }

    public async Task<(int Code, string Output)> RunAsync(
        string file, IReadOnlyList<string> arguments, string? artifacts, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Process.Start(StartInfo(file, arguments, artifacts, environment))!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        return (process.ExitCode, await output + await error);
    }
}
