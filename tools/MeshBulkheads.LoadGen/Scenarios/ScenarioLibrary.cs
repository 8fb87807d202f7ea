using MeshBulkheads.LoadGen.Cli;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Streams;
using MeshBulkheads.LoadGen.Thresholds;

namespace MeshBulkheads.LoadGen.Scenarios;

/// <summary>One phase of a scenario: a run with its own streams and retry behaviour.</summary>
internal sealed record ScenarioPhase(string Label, IReadOnlyList<StreamSpec> Streams, TimeSpan Duration, int MaxAttempts = 1, PushbackMode Pushback = PushbackMode.Honour, IReadOnlyList<string>? Thresholds = null);

/// <summary>A named scenario (README.md documents what each shows and which metric proves it).</summary>
internal sealed record Scenario(string Name, string Shows, string Proof, Func<TenantKeys, double, IReadOnlyList<ScenarioPhase>> Phases);

/// <summary>The scenarios behind <c>meshload scenario &lt;name&gt;</c>; rates are for the default tiers.</summary>
internal static class ScenarioLibrary
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("baseline",
            "every route at a comfortable rate: everything OK, the latency floor of the mesh",
            "ok = 100% per stream; meshbulkheads_bulkhead_requests_total only meshbulkheads_bulkhead_result=\"acquired\"",
            (k, x) => [new("baseline", [
                S("payments-read", k.Gold, MeshMethod.GetBalance, 50 * x),
                S("payments-charge", k.Gold, MeshMethod.Charge, 10 * x, criticality: "critical"),
                S("reporting", k.Silver, MeshMethod.BuildReport, 2 * x),
                S("render", k.Bronze, MeshMethod.Render, 0.5 * x),
            ], TimeSpan.FromSeconds(20), Thresholds: ["*:ok>=99%"])]),
        new("noisy-neighbor",
            "globex floods reporting while acme charges: acme's payments all succeed, globex is shed with pushback",
            "payments ok = 100%; reporting RESOURCE_EXHAUSTED/tenant-rate-limit (and UNAVAILABLE/tenant-share, queue-full) with grpc-retry-pushback-ms; meshbulkheads_gateway_rate_limit_decisions_total{meshbulkheads_tenant=\"globex\",meshbulkheads_rate_limit_result=\"rejected\"} rises, acme's does not",
            (k, x) => [new("noisy-neighbor", [
                S("payments", k.Gold, MeshMethod.Charge, 20 * x, criticality: "critical"),
                S("reporting", k.Silver, MeshMethod.BuildReport, 60 * x, accounts: 50, criticality: "sheddable"),
            ], TimeSpan.FromSeconds(15), Thresholds: ["payments:ok>=99%", "reporting:rejected>0"])]),
        new("overload",
            "render at about 3x what its workers sustain: the bulkhead sheds fast (queue-full) instead of queueing into timeouts",
            "render UNAVAILABLE/queue-full with low rejected latency; meshbulkheads_bulkhead_queue_oldest_age_seconds{meshbulkheads_bulkhead=\"render\"} stays under MaxQueueTime",
            (k, x) => [new("overload", [
                S("render", k.Gold, MeshMethod.Render, 15 * x, size: 256, iterations: 500),
                S("payments", k.Gold, MeshMethod.GetBalance, 20 * x),
            ], TimeSpan.FromSeconds(15), Thresholds: ["payments:ok>=99%"])]),
        new("cpu-storm",
            "CPU-heavy renders from two tenants while payments reads run: render sheds, payments and the thread pool stay healthy",
            "meshbulkheads_threadpool_lag_seconds stays low in render and payments; render UNAVAILABLE/queue-full or RESOURCE_EXHAUSTED/tenant-work-budget",
            (k, x) => [new("cpu-storm", [
                S("render-gold", k.Gold, MeshMethod.Render, 10 * x, size: 256, iterations: 500),
                S("render-bronze", k.Bronze, MeshMethod.Render, 1 * x, size: 256, iterations: 500),
                S("payments", k.Gold, MeshMethod.GetBalance, 30 * x),
            ], TimeSpan.FromSeconds(15), Thresholds: ["payments:ok>=99%"])]),
        new("deadline-storm",
            "callers with deadlines too short to meet: the mesh answers DEADLINE_EXCEEDED before doing doomed work",
            "DEADLINE_EXCEEDED/deadline-exceeded counts; meshbulkheads_bulkhead_requests_total{meshbulkheads_bulkhead_result=\"deadline_exceeded\"}; payments with a sane deadline unaffected",
            (k, x) => [new("deadline-storm", [
                S("reports-1ms", k.Silver, MeshMethod.BuildReport, 8 * x, deadline: TimeSpan.FromMilliseconds(1)),
                S("renders-2ms", k.Gold, MeshMethod.Render, 10 * x, deadline: TimeSpan.FromMilliseconds(2), size: 128, iterations: 200),
                S("payments", k.Gold, MeshMethod.GetBalance, 30 * x),
            ], TimeSpan.FromSeconds(10), Thresholds: ["payments:ok>=99%"])]),
        new("pool-wait",
            "fast queries, slow API: charges contend for payments' small write pool; the wait is in the pool, not the query",
            "meshbulkheads_db_pool_wait_time_seconds grows while meshbulkheads_db_query_duration_seconds stays flat; UNAVAILABLE/db-pool-timeout or partition-full",
            (k, x) => [new("pool-wait", [
                S("charges", k.Gold, MeshMethod.Charge, 150 * x, criticality: "critical"),
                S("reads", k.Gold, MeshMethod.ListPayments, 40 * x),
            ], TimeSpan.FromSeconds(15))]),
        new("retry-storm",
            "overloaded render with clients that retry UNAVAILABLE at once (no budget) vs clients that honour grpc-retry-pushback-ms",
            "attempts per call and goodput of the two phases; meshbulkheads_bulkhead_requests_total{meshbulkheads_bulkhead_result=\"queue_full\"} rate in the storm phase",
            (k, x) => [
                new("retry-storm: ignore pushback, 4 attempts", [S("render", k.Gold, MeshMethod.Render, 15 * x, size: 256, iterations: 500)], TimeSpan.FromSeconds(10), 4, PushbackMode.Ignore),
                new("retry-storm: honour pushback, 4 attempts", [S("render", k.Gold, MeshMethod.Render, 15 * x, size: 256, iterations: 500)], TimeSpan.FromSeconds(10), 4, PushbackMode.Honour),
            ]),
        new("capacity",
            "steps a method's rate until its SLO breaks; prints the sustainable rate and permits, queue length and MaxQueueTime from Little's law",
            "the step table: the last step that met the SLO (thresholds, default p99<100ms and ok>=99%)",
            (k, x) => [new("capacity", [S("capacity", k.Gold, MeshMethod.GetBalance, 20 * x)], TimeSpan.FromSeconds(5))]),
    ];

    public static Scenario Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new BadInputException($"unknown scenario '{name}' (known: {string.Join(", ", All.Select(s => s.Name))})");

    private static StreamSpec S(string name, string key, MeshMethod method, double rate, string? criticality = null, int accounts = 10, int size = 64, int iterations = 50, TimeSpan? deadline = null) => new()
    {
        Name = name,
        ApiKey = key,
        Method = method,
        Rate = Math.Max(rate, 0.1),
        Criticality = criticality,
        Accounts = accounts,
        RenderSize = size,
        RenderIterations = iterations,
        Deadline = deadline ?? CommandLine.DefaultDeadline(method),
    };

    public static IReadOnlyList<Threshold> ParseThresholds(IEnumerable<string>? texts) => [.. (texts ?? []).Select(Threshold.Parse)];
}
