using System.Text.Json.Nodes;
using MeshBulkheads.Chaos.Engine;
using MeshBulkheads.Chaos.Local;

namespace MeshBulkheads.Chaos.Experiments;

/// <summary>
/// Experiment 4: the gateway restarts under load — SIGTERM (Kestrel stops accepting and drains the calls in
/// flight) and a start on the same port. Negative control: SIGKILL instead (no drain).
/// </summary>
internal sealed class GatewayRestartExperiment : LocalMeshExperiment
{
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);
    private static readonly string[] Backends = ["payments-1", "reporting"];

    private LoadResult? _load;
    private DateTimeOffset _stoppedAt;
    private DateTimeOffset _readyAt;
    private TimeSpan? _backendsIdle;
    private double _lateStarts;

    public override string Id => "gateway-restart";

    public override string Title => "Gateway restart under load";

    public override string Description =>
        "meshload charges (acme, 20/s) and builds 10-account reports (globex, 2/s) through the gateway, every payments handler slowed by 300 ms (the faults API) so that calls are in flight; "
        + "the gateway gets SIGTERM and starts again on the same port.";

    public override string Promise =>
        $"Calls in flight when the stop begins complete; calls that arrive while it is down see UNAVAILABLE (never a hang, never another status); "
        + $"every call succeeds again from {RecoveryBound.TotalSeconds:0} s after the gateway is ready; no backend handler starts after its caller's deadline and the backends' permits return to zero.";

    public override string Protection => "graceful shutdown (the gateway gets SIGKILL: the calls in flight are cut)";

    public override string ClusterAdds => "A gateway pod deleted behind its Service: the other replica and the Service's endpoints take the calls (`k8s/chaos/helm-upgrade.sh` rolls the gateway too).";

    public override string HypothesisTitle => "A gateway restart costs only the calls that arrive while it is down";

    public override IReadOnlyList<(string Type, string Name)> MethodOutline =>
    [
        ("action", "PUT /faults: latency 300 ms at server (payments)"),
        ("action", "charge + report load (meshload)"),
        ("action", "stop the gateway"),
        ("action", "start the gateway again"),
        ("action", "DELETE /faults"),
        ("probe", "time until the backends have no calls in flight"),
    ];

    public override IReadOnlyList<string> RollbackOutline => ["DELETE /faults on payments", "stop the mesh"];

    private static readonly string[] Streams = ["name=charges,key=gold,method=Charge,rate=20", "name=reports,key=silver,method=BuildReport,rate=2,accounts=10"];

    public override IReadOnlyList<HypothesisProbe> Hypothesis(ExperimentContext context) =>
    [
        new("charges and reports succeed", "meshload thresholds *:ok==100%", Phase.Both, ct => SteadyLoadAsync(context, Streams, ["*:ok==100%"], ct)),
        new("calls in flight at the stop completed", "some calls in flight (sent before the stop, not ended at it), every one OK", Phase.After,
            Judge(() =>
            {
                var calls = InFlight();
                return ProbeOutcome.Check(calls.Count > 0 && calls.All(c => c.Status == "OK"), new JsonObject { ["inFlight"] = calls.Count, ["notOk"] = calls.Count(c => c.Status != "OK") });
            })),
        new("clients saw UNAVAILABLE while it was down, and nothing hung", $"every failed call UNAVAILABLE, every call ended within {Deadline.TotalSeconds:0} s + 1 s", Phase.After,
            _ => Task.FromResult(_load is null ? ProbeOutcome.Check(false, null)
                : ProbeOutcome.Check(_load.Calls.Where(c => c.Status != "OK").All(c => c.Status == "UNAVAILABLE") && _load.Calls.All(c => c.LatencyMs <= (Deadline + TimeSpan.FromSeconds(1)).TotalMilliseconds),
                    new JsonObject { ["failed"] = _load.Calls.Count(c => c.Status != "OK"), ["statuses"] = Statuses(_load.Calls.Where(c => c.Status != "OK")), ["maxMs"] = Round(_load.Calls.Max(c => c.LatencyMs), 1) }))),
        new("clients recovered", $"calls due from {RecoveryBound.TotalSeconds:0} s after the gateway was ready: all OK", Phase.After,
            Judge(() =>
            {
                if (_load is null)
                {
                    return ProbeOutcome.Check(false, null);
                }

                var late = _load.Calls.Where(c => LoadResult.DueOf(c) >= _readyAt + RecoveryBound).ToList();
                return ProbeOutcome.Check(late.Count > 0 && late.All(c => c.Status == "OK"), new JsonObject { ["calls"] = late.Count, ["notOk"] = late.Count(c => c.Status != "OK") });
            })),
        new("no backend work past its deadline", "meshbulkheads_rpc_server_handler_starts_total{deadline_state=passed} == 0; backends idle within 5 s of the load's end", Phase.After,
            _ => Task.FromResult(ProbeOutcome.Check(_lateStarts == 0 && _backendsIdle is not null, new JsonObject { ["lateStarts"] = _lateStarts, ["idleAfterSeconds"] = Round(_backendsIdle) }))),
    ];

    public override Task SetUpAsync(ExperimentContext context, CancellationToken cancellationToken) =>
        StartMeshAsync(context, new MeshPlan { Reporting = true }, postgres: false, cancellationToken);

    public override async Task MethodAsync(ExperimentContext context, CancellationToken cancellationToken)
    {
        // 300 ms in every payments handler, so that calls are in flight when the gateway is asked to stop.
        context.OnRollback("DELETE /faults on payments", () => Mesh.AdminAsync("payments-1", HttpMethod.Delete, "/faults", null, CancellationToken.None));
        await context.ActionAsync("PUT /faults: latency 300 ms at server (payments)",
            ct => Mesh.AdminAsync("payments-1", HttpMethod.Put, "/faults", """{"faults":[{"kind":"latency","target":"server","latencyMs":300,"expiresInSeconds":120}]}""", ct),
            body => JsonNode.Parse(body), cancellationToken).ConfigureAwait(false);
        var loadTask = Load.RunAsync(Mesh.GatewayAddress,
            ["--stream", $"{Streams[0]},deadline={Duration(Deadline)}", "--stream", $"{Streams[1]},deadline={Duration(Deadline)}", "--duration", "18s"],
            cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(3), context.Time, cancellationToken).ConfigureAwait(false);
        await context.ActionAsync(context.Unprotected ? "stop the gateway (SIGKILL)" : "stop the gateway (SIGTERM, drain)", async _ =>
        {
            _stoppedAt = context.Time.GetUtcNow();
            if (context.Unprotected)
            {
                await Mesh["gateway"].KillAsync().ConfigureAwait(false);
            }
            else
            {
                await Mesh["gateway"].StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
        await context.ActionAsync("start the gateway again", async ct =>
        {
            await Mesh.RestartAsync("gateway", ct).ConfigureAwait(false);
            _readyAt = context.Time.GetUtcNow();
        }, cancellationToken).ConfigureAwait(false);
        _load = await context.ActionAsync("charge + report load (meshload)", _ => loadTask, r => new JsonObject { ["charges"] = r.Summary("charges"), ["reports"] = r.Summary("reports") }, cancellationToken).ConfigureAwait(false);
        await context.ActionAsync("DELETE /faults", ct => Mesh.AdminAsync("payments-1", HttpMethod.Delete, "/faults", null, ct), body => JsonNode.Parse(body), cancellationToken).ConfigureAwait(false);
        _backendsIdle = await context.ActionAsync("time until the backends have no calls in flight", ct => UntilAsync(context, async c =>
        {
            double active = 0;
            foreach (var backend in Backends)
            {
                active += (await Mesh.ScrapeAsync(backend, c).ConfigureAwait(false)).Sum("meshbulkheads_bulkhead_active_requests");
            }

            return active == 0;
        }, TimeSpan.FromSeconds(5), ct), t => Round(t), cancellationToken).ConfigureAwait(false);
        foreach (var backend in Backends)
        {
            _lateStarts += (await Mesh.ScrapeAsync(backend, cancellationToken).ConfigureAwait(false)).Sum("meshbulkheads_rpc_server_handler_starts_total", ("meshbulkheads_deadline_state", "passed"));
        }

        var inFlight = InFlight();
        context.Measure("calls in flight at the stop", "calls", null, inFlight.Count, null);
        context.Measure("in-flight calls not OK", "calls", null, inFlight.Count(c => c.Status != "OK"), null);
        context.Measure("calls not OK", "calls", null, _load.Calls.Count(c => c.Status != "OK"), null);
        context.Measure("gateway down (stop to ready)", "s", null, Round((_readyAt - _stoppedAt).TotalSeconds), null);
        context.Measure("handlers started after their deadline", "calls", null, null, _lateStarts);
    }

    // Sent before the stop began and not ended when it began: in flight at the gateway when it was asked to stop. (No
    // margin after the stop: a SIGKILL ends the cut calls within milliseconds of it, and a margin of 50 ms once left
    // the control with none in flight, holding by default.)
    private List<CallRecord> InFlight() =>
        _load?.Calls.Where(c => LoadResult.DueOf(c) < _stoppedAt - TimeSpan.FromMilliseconds(100) && LoadResult.EndOf(c) > _stoppedAt).ToList() ?? [];

    private static JsonObject Statuses(IEnumerable<CallRecord> calls) =>
        new([.. calls.GroupBy(c => c.Reason is null ? c.Status : $"{c.Status}/{c.Reason}").Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))]);
}
