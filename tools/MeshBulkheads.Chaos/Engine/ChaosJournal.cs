using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MeshBulkheads.Chaos.Engine;

/// <summary>How an experiment run ended (the Chaos Toolkit's journal <c>status</c>).</summary>
internal enum JournalStatus
{
    /// <summary>Every step ran, whether or not the hypothesis held afterwards.</summary>
    Completed,

    /// <summary>An activity of the method failed: the experiment could not be carried out.</summary>
    Failed,

    /// <summary>The steady state did not hold before the method: nothing was injected.</summary>
    Aborted,

    /// <summary>Ctrl-C, SIGTERM or the experiment's time limit stopped it (rollbacks still ran).</summary>
    Interrupted,
}

/// <summary>One recorded probe or action: the <c>run[]</c>, <c>rollbacks[]</c> and steady-state entries of a journal.</summary>
internal sealed record ActivityRun(
    string Type,
    string Name,
    string? Tolerance,
    bool Succeeded,
    JsonNode? Output,
    bool? ToleranceMet,
    DateTimeOffset Start,
    DateTimeOffset End)
{
    public JsonObject ToJson()
    {
        var activity = new JsonObject { ["type"] = Type, ["name"] = Name };
        if (Tolerance is not null)
        {
            activity["tolerance"] = Tolerance;
        }

        var run = new JsonObject
        {
            ["activity"] = activity,
            ["status"] = Succeeded ? "succeeded" : "failed",
            ["output"] = Output?.DeepClone(),
        };
        if (ToleranceMet is { } met)
        {
            run["tolerance_met"] = met;
        }

        run["start"] = ChaosJournal.Timestamp(Start);
        run["end"] = ChaosJournal.Timestamp(End);
        run["duration"] = Math.Round((End - Start).TotalSeconds, 3);
        return run;
    }
}

/// <summary>A row of the before/during/after table (<c>measurements[]</c>).</summary>
internal sealed record Measurement(string Name, string Unit, double? Before, double? During, double? After);

/// <summary>
/// The journal of one experiment run, in the Chaos Toolkit's layout plus MeshBulkheads' fields
/// (<c>experiment.control</c>, <c>experiment.expect</c>, <c>measurements</c>, <c>verdict</c>). The layout
/// is the contract shared with <c>k8s/chaos/lib.sh</c>: docs/chaos-journal.md.
/// </summary>
internal sealed class ChaosJournal
{
    public const string Version = "meshbulkheads-chaos/1";

    public required string ExperimentId { get; init; }

    public required string Title { get; init; }

    public required string Description { get; init; }

    public required string HypothesisTitle { get; init; }

    /// <summary><c>protected</c>, or <c>unprotected</c> for the negative control.</summary>
    public required bool Unprotected { get; init; }

    public string Platform { get; init; } = "local";

    public DateTimeOffset Start { get; set; }

    public DateTimeOffset End { get; set; }

    public JournalStatus Status { get; set; } = JournalStatus.Completed;

    public List<ActivityRun> Before { get; } = [];

    public List<ActivityRun>? After { get; set; }

    public List<ActivityRun> Run { get; } = [];

    public List<ActivityRun> Rollbacks { get; } = [];

    public List<Measurement> Measurements { get; } = [];

    /// <summary>Extra facts for the report (commit, configuration, the command).</summary>
    public JsonObject Context { get; } = [];

    public bool BeforeMet => Before.All(p => p.ToleranceMet == true);

    /// <summary>The hypothesis did not hold after the method (the journal's <c>deviated</c>).</summary>
    public bool Deviated => After is { } after && after.Any(p => p.ToleranceMet != true);

    /// <summary>What this run must show: the steady state holds, or (negative control) it does not.</summary>
    public string Expect => Unprotected ? "deviate" : "hold";

    /// <summary>
    /// The verdict: a protected run passes when it completed and did not deviate; a negative control
    /// passes when it deviated (an experiment that cannot fail proves nothing).
    /// </summary>
    public bool Pass => Unprotected ? Deviated : Status == JournalStatus.Completed && !Deviated;

    public string VerdictText
    {
        get
        {
            var failed = (After ?? Before).Where(p => p.ToleranceMet != true).Select(p => p.Name).ToArray();
            var what = Status switch
            {
                JournalStatus.Aborted => "steady state did not hold before the method: " + string.Join("; ", Before.Where(p => p.ToleranceMet != true).Select(p => p.Name)),
                JournalStatus.Failed => "an activity failed: " + string.Join("; ", Run.Where(r => !r.Succeeded).Select(r => r.Name)),
                JournalStatus.Interrupted => "interrupted; rollbacks ran",
                _ when failed.Length == 0 => "the hypothesis held",
                _ => "the hypothesis failed: " + string.Join("; ", failed),
            };
            var label = Unprotected ? "negative control" : "experiment";
            return $"{(Pass ? "PASS" : "FAIL")} {ExperimentId}{(Unprotected ? " (unprotected)" : string.Empty)}: {label}, {what}"
                + (Unprotected ? (Pass ? " — as it must without its protection" : " — but it must fail without its protection") : string.Empty);
        }
    }

    /// <summary>
    /// The hypothesis decides the exit code, as in the Chaos Toolkit: 0 it held, 1 it deviated, 2 the
    /// experiment could not run (aborted or failed), 130 interrupted. A negative control therefore exits 1
    /// when it does what it must; whoever runs both (<c>meshchaos run</c>) compares with <see cref="Expect"/>.
    /// </summary>
    public int ExitCode => Status switch
    {
        JournalStatus.Interrupted => 130,
        JournalStatus.Aborted or JournalStatus.Failed => 2,
        _ => Deviated ? 1 : 0,
    };

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public JsonObject ToJson(IReadOnlyList<(string Name, string Tolerance)> probes, IReadOnlyList<(string Type, string Name)> method, IReadOnlyList<string> rollbacks)
    {
        var journal = new JsonObject
        {
            ["chaoslib-version"] = Version,
            ["platform"] = Platform,
            ["experiment"] = new JsonObject
            {
                ["id"] = ExperimentId,
                ["title"] = Title,
                ["description"] = Description,
                ["control"] = Unprotected ? "unprotected" : "protected",
                ["expect"] = Expect,
                ["steady-state-hypothesis"] = new JsonObject
                {
                    ["title"] = HypothesisTitle,
                    ["probes"] = new JsonArray([.. probes.Select(p => (JsonNode)new JsonObject { ["type"] = "probe", ["name"] = p.Name, ["tolerance"] = p.Tolerance })]),
                },
                ["method"] = new JsonArray([.. method.Select(m => (JsonNode)new JsonObject { ["type"] = m.Type, ["name"] = m.Name })]),
                ["rollbacks"] = new JsonArray([.. rollbacks.Select(r => (JsonNode)new JsonObject { ["type"] = "action", ["name"] = r })]),
            },
            ["start"] = Timestamp(Start),
            ["end"] = Timestamp(End),
            ["duration"] = Math.Round((End - Start).TotalSeconds, 3),
            ["status"] = Status.ToString().ToLowerInvariant(),
            ["deviated"] = Deviated,
            ["steady_states"] = new JsonObject
            {
                ["before"] = new JsonObject { ["steady_state_met"] = BeforeMet, ["probes"] = Runs(Before) },
                ["after"] = After is null ? null : new JsonObject { ["steady_state_met"] = !Deviated, ["probes"] = Runs(After) },
                ["during"] = new JsonArray(),
            },
            ["run"] = Runs(Run),
            ["rollbacks"] = Runs(Rollbacks),
            ["measurements"] = new JsonArray([.. Measurements.Select(m => (JsonNode)new JsonObject
            {
                ["name"] = m.Name,
                ["unit"] = m.Unit,
                ["before"] = m.Before,
                ["during"] = m.During,
                ["after"] = m.After,
            })]),
            ["verdict"] = new JsonObject { ["pass"] = Pass, ["text"] = VerdictText },
            ["context"] = Context.DeepClone(),
        };
        return journal;
    }

    public static string Serialize(JsonObject journal) => journal.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static JsonArray Runs(IEnumerable<ActivityRun> runs) => new([.. runs.Select(r => (JsonNode)r.ToJson())]);
}
