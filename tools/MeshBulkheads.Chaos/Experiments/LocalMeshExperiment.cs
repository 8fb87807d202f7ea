using System.Globalization;
using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// What the local experiments share: a mesh of processes (and PostgreSQL when asked) started as the
/// set-up's actions and stopped by rollbacks, meshload against its gateway, and polling with a bound.
/// </summary>
internal abstract class LocalMeshExperiment : ChaosExperiment
{
    protected const string Tenant = "acme";

    private LocalMesh? _mesh;
    private MeshLoad? _load;

    protected LocalMesh Mesh => _mesh ?? throw new InvalidOperationException("the mesh is not started");

    protected MeshLoad Load => _load ?? throw new InvalidOperationException("the mesh is not started");

    protected LocalPostgres? Postgres { get; private set; }

    /// <summary>Seconds of load, scaled down for the runs of <c>make test</c>.</summary>
    protected static TimeSpan Seconds(ExperimentContext context, double full, double short_) => TimeSpan.FromSeconds(context.Settings.Short ? short_ : full);

    protected static string Duration(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0}ms");

    /// <summary>Starts PostgreSQL when <paramref name="postgres"/>, then the mesh of <paramref name="plan"/>; both stopped by rollbacks.</summary>
    protected async Task StartMeshAsync(ExperimentContext context, MeshPlan plan, bool postgres, CancellationToken cancellationToken)
    {
        if (postgres)
        {
            Postgres = await context.ActionAsync("start PostgreSQL", LocalPostgres.StartAsync, pg => JsonValue.Create($"127.0.0.1:{pg.Port}"), cancellationToken).ConfigureAwait(false);
            context.OnRollback("stop PostgreSQL", async () => await Postgres.DisposeAsync().ConfigureAwait(false));
            plan = plan with { PostgresConnectionString = Postgres.ConnectionString() };
        }

        var mesh = new LocalMesh(context.Settings.Root, context.Settings.Configuration, context.RunDirectory, plan, context.Time);
        _mesh = mesh;
        context.OnRollback("stop the mesh", async () => await mesh.DisposeAsync().ConfigureAwait(false));
        await context.ActionAsync<bool>("start the mesh", async ct => { await mesh.StartAsync(ct).ConfigureAwait(false); return true; }, _ => new JsonArray([.. mesh.HostNames.Select(h => (JsonNode)JsonValue.Create($"{h} grpc {mesh.Grpc(h).Port} admin {mesh.Admin(h).Port}"))]), cancellationToken).ConfigureAwait(false);
        _load = new MeshLoad(context.Settings.Root, context.Settings.Configuration, context.RunDirectory);
        // Cold hosts (JIT, connection set-up, pools) answer their first calls slowly: that is not the steady state.
        await context.ActionAsync("warm up (meshload, not measured)", ct => _load.RunAsync(mesh.GatewayAddress, ["--duration", Duration(WarmUpDuration), .. WarmUpStreams.SelectMany(s => new[] { "--stream", s })], ct),
            r => r.Json["streams"]?.DeepClone(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// How long the unmeasured warm-up after the mesh starts runs: at 20/s, 20 calls JIT each route's path through the
    /// gateway and the backend and open their connections; every SLO probe leaves out its own first 2 s besides (SloCheck.WarmUp).
    /// </summary>
    protected static readonly TimeSpan WarmUpDuration = TimeSpan.FromSeconds(1);

    /// <summary>The streams of the unmeasured warm-up after the mesh starts.</summary>
    protected virtual IReadOnlyList<string> WarmUpStreams => ["name=warm-reads,key=gold,method=GetBalance,rate=20"];

    /// <summary>Polls <paramref name="condition"/> every 100 ms; the time it took, or null when <paramref name="timeout"/> passed first.</summary>
    protected static async Task<TimeSpan?> UntilAsync(ExperimentContext context, Func<CancellationToken, Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = context.Time.GetTimestamp();
        while (context.Time.GetElapsedTime(start) <= timeout)
        {
            if (await condition(cancellationToken).ConfigureAwait(false))
            {
                return context.Time.GetElapsedTime(start);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), context.Time, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>A short steady-state load: <paramref name="streams"/> through the gateway with meshload's thresholds.</summary>
    protected async Task<ProbeOutcome> SteadyLoadAsync(ExperimentContext context, IReadOnlyList<string> streams, IReadOnlyList<string> thresholds, CancellationToken cancellationToken)
    {
        var arguments = LoadArguments(Seconds(context, 4, 2), streams);
        foreach (var threshold in thresholds)
        {
            arguments.AddRange(["--threshold", threshold]);
        }

        var result = await Load.RunAsync(Mesh.GatewayAddress, arguments, cancellationToken).ConfigureAwait(false);
        var output = new JsonObject
        {
            ["exitCode"] = result.ExitCode,
            ["streams"] = new JsonArray([.. result.Json["streams"]!.AsArray().Select(s => (JsonNode)result.Summary((string)s!["name"]!))]),
            ["thresholds"] = result.Json["thresholds"]?.DeepClone(),
        };
        return new ProbeOutcome(output, result.ExitCode == 0);
    }

    /// <summary>
    /// The steady state of the "other routes keep their SLOs" experiments, before the fault: <paramref name="streams"/> for
    /// <see cref="SloCheck.WarmUp"/> plus five seconds (at 20/s, 100 measured calls, so the p99 is not the single worst
    /// call), each of <paramref name="judged"/> against its objective exactly as the verdict judges it during the fault.
    /// A machine too noisy to meet the SLOs with no fault at all aborts the run instead of deciding its verdict.
    /// </summary>
    protected async Task<ProbeOutcome> SteadySloAsync(ExperimentContext context, IReadOnlyList<string> streams, IReadOnlyList<(string Stream, Slo Slo)> judged, CancellationToken cancellationToken)
    {
        var result = await Load.RunAsync(Mesh.GatewayAddress, LoadArguments(SloCheck.WarmUp + Seconds(context, 5, 3), streams), cancellationToken).ConfigureAwait(false);
        var outcomes = judged.Select(j => (j.Stream, Outcome: SloCheck.Evaluate(result, j.Stream, j.Slo))).ToArray();
        return new ProbeOutcome(new JsonObject([.. outcomes.Select(o => KeyValuePair.Create(o.Stream, o.Outcome.Output?.DeepClone()))]), outcomes.All(o => o.Outcome.Met));
    }

    /// <summary>meshload's arguments for <paramref name="streams"/> over <paramref name="duration"/>.</summary>
    private static List<string> LoadArguments(TimeSpan duration, IReadOnlyList<string> streams) =>
        ["--duration", Duration(duration), .. streams.SelectMany(stream => new[] { "--stream", stream })];

    /// <summary>A probe judged from what the method recorded (no new measurement).</summary>
    protected static Func<CancellationToken, Task<ProbeOutcome>> Judge(Func<ProbeOutcome> judge) => _ => Task.FromResult(judge());

    protected static double Round(double value, int digits = 3) => Math.Round(value, digits);

    protected static double? Round(TimeSpan? value) => value is { } v ? Math.Round(v.TotalSeconds, 3) : null;
}
