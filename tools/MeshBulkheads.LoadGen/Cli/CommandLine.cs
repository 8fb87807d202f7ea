using System.Globalization;
using MeshBulkheads.LoadGen.Running;
using MeshBulkheads.LoadGen.Streams;
using MeshBulkheads.LoadGen.Thresholds;

namespace MeshBulkheads.LoadGen.Cli;

internal enum CommandKind
{
    Help,
    Run,
    Scenario,
    ScenarioList,
    Watch,
    Sweep,
    Compare,
    Stream,
}

/// <summary>A parsed command line; every mistake is a <see cref="BadInputException"/> (exit 3).</summary>
internal sealed record ParsedCommand
{
    public CommandKind Kind { get; init; }

    public string? ScenarioName { get; init; }

    public Uri Target { get; init; } = new("http://127.0.0.1:8080");

    /// <summary><c>--ca-file FILE</c>: check an <c>https://</c> target's certificate against this CA (PEM) only.</summary>
    public string? CaFile { get; init; }

    public TimeSpan? Duration { get; init; }

    public List<StreamSpec> Streams { get; init; } = [];

    public string? File { get; init; }

    public int? Connections { get; init; }

    public PushbackMode? Pushback { get; init; }

    public int? MaxAttempts { get; init; }

    public TimeSpan MaxLag { get; init; } = TimeSpan.FromMilliseconds(100);

    public List<Threshold> Thresholds { get; init; } = [];

    public bool Json { get; init; }

    public string? ReportPath { get; init; }

    /// <summary><c>--call-log FILE</c>: one JSON line per finished call (<see cref="Running.CallLog"/>).</summary>
    public string? CallLogPath { get; init; }

    public List<Uri> AdminTargets { get; init; } = [];

    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Scale every stream's rate (and closed-loop concurrency) of a scenario.</summary>
    public double RateScale { get; init; } = 1;

    public TenantKeys Keys { get; init; } = TenantKeys.FromEnvironment(_ => null);

    public bool NoLive { get; init; }

    /// <summary>sweep: the bulkhead whose permits are swept, the host command and its admin address.</summary>
    public string? Bulkhead { get; init; }

    public string? HostCommand { get; init; }

    public string? HostDirectory { get; init; }

    public Uri? HostAdmin { get; init; }

    public List<string> HostEnvironment { get; init; } = [];

    public List<int> Permits { get; init; } = [];

    public string? PermitKey { get; init; }

    public string? PlotPath { get; init; }

    /// <summary>compare: the <c>--json</c> files of the runs, in column order.</summary>
    public List<string> CompareFiles { get; init; } = [];

    /// <summary>stream: the RenderRows streams' options (<c>meshload stream</c> parses its own).</summary>
    public RowStreams.RowStreamOptions? RowStream { get; init; }

    /// <summary>Default admin ports of make run: gateway 9080, payments 9081, reporting 9082, render 9083.</summary>
    public static IReadOnlyList<Uri> DefaultAdminTargets { get; } =
        [new("http://127.0.0.1:9080"), new("http://127.0.0.1:9081"), new("http://127.0.0.1:9082"), new("http://127.0.0.1:9083")];
}

internal static class CommandLine
{
    public const string Usage = """
        meshload: open-loop gRPC load through the MeshBulkheads gateway.

          meshload run --stream name=payments,key=gold,method=GetBalance,rate=100 [options]
          meshload run --file scenario.yaml [options]
          meshload scenario <name> [options]        (meshload scenario list)
          meshload watch [--admin http://127.0.0.1:9080 ...]
          meshload stream [--count 2] [--read-delay 20ms] [--width 1024] [--height 256]   (meshload stream --help)
          meshload sweep --bulkhead payments-read --host 'dotnet MeshBulkheads.Payments.dll' --host-dir DIR
                         --host-admin 127.0.0.1:9081 --stream method=GetBalance,rate=150 [--permits 1,2,4,…,128]
                         [--permit-key Render__WorkerCount] [--host-env K=V] [--plot sweep.svg]
          meshload compare a.json b.json [...] [--report compare.html]   (runs side by side, from --json output)
          meshload token --method GetBalance [--tenant acme] [--ttl 10m]   (identity token for a direct call; meshload token --help)
          meshload key-hash < key   |   meshload key-new               (an API key's stored hash for Gateway:ApiKeysFile)

        Stream fields: name, key (API key, or gold|silver|bronze), method (GetBalance Charge ListPayments
          BuildReport Render), rate (calls/s, open loop) or concurrency (closed loop), deadline (2s),
          accounts (per report), size and iterations (render), criticality (critical|sheddable), start (2s).
        Options: --target http://127.0.0.1:8080 (https://… for a TLS gateway; --ca-file ca.crt trusts that CA only)  --duration 10s  --connections 4  --attempts 1
          --pushback honour|ignore  --threshold 'payments:p99<50ms' (repeatable)  --max-lag 100ms
          --json  --report out.html  --call-log calls.jsonl  --admin URL (repeatable; default 127.0.0.1:9080-9083)
          --rate-scale 1.0  --gold-key K --silver-key K --bronze-key K  --no-live  --interval 1s
        Exit codes: 0 pass, 1 a threshold failed, 2 invalid run (the schedule slipped), 3 bad input.
        """;

    public static ParsedCommand Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var keys = TenantKeys.FromEnvironment(environment);
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            return new ParsedCommand { Kind = CommandKind.Help };
        }

        var index = 0;
        var kind = CommandKind.Run;
        string? scenario = null;
        switch (args[0])
        {
            case "run":
                index = 1;
                break;
            case "scenario":
                if (args.Count < 2 || args[1].StartsWith('-'))
                {
                    throw new BadInputException("meshload scenario needs a name (meshload scenario list)");
                }

                kind = args[1] == "list" ? CommandKind.ScenarioList : CommandKind.Scenario;
                scenario = args[1];
                index = 2;
                break;
            case "watch":
                kind = CommandKind.Watch;
                index = 1;
                break;
            case "sweep":
                kind = CommandKind.Sweep;
                index = 1;
                break;
            case "compare":
                kind = CommandKind.Compare;
                index = 1;
                break;
            case "stream":
                return new ParsedCommand { Kind = CommandKind.Stream, Keys = keys, RowStream = RowStreams.RowStreamOptions.Parse([.. args.Skip(1)], keys) };
            default:
                if (!args[0].StartsWith('-'))
                {
                    throw new BadInputException($"unknown command '{args[0]}' (run, scenario, watch, sweep, compare, stream, token, key-hash, key-new, --help)");
                }

                break;
        }

        // Key overrides first: --stream key=gold resolves against them wherever they appear.
        for (var i = index; i < args.Count - 1; i++)
        {
            keys = args[i] switch
            {
                "--gold-key" => keys with { Gold = args[i + 1] },
                "--silver-key" => keys with { Silver = args[i + 1] },
                "--bronze-key" => keys with { Bronze = args[i + 1] },
                _ => keys,
            };
        }

        var command = new ParsedCommand { Kind = kind, ScenarioName = scenario, Keys = keys };
        if (kind == CommandKind.Compare)
        {
            // The run files come first, then the options.
            for (; index < args.Count && !args[index].StartsWith("--", StringComparison.Ordinal); index++)
            {
                command.CompareFiles.Add(args[index]);
            }

            if (command.CompareFiles.Count < 2)
            {
                throw new BadInputException("meshload compare needs at least two result files (meshload run|scenario … --json > a.json)");
            }
        }

        for (var i = index; i < args.Count; i++)
        {
            var option = args[i];
            string Value()
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                {
                    throw new BadInputException($"{option} needs a value");
                }

                return args[++i];
            }

            command = option switch
            {
                "--target" => command with { Target = ParseUri(Value(), option) },
                "--ca-file" => command with { CaFile = Value() },
                "--duration" => command with { Duration = DurationText.Parse(Value(), option) },
                "--stream" => Add(command, ParseStream(Value(), keys)),
                "--file" => command with { File = Value() },
                "--connections" => command with { Connections = ParseInt(Value(), option, 1, 256) },
                "--attempts" => command with { MaxAttempts = ParseInt(Value(), option, 1, 10) },
                "--pushback" => command with { Pushback = Value() switch
                {
                    "honour" or "honor" => PushbackMode.Honour,
                    "ignore" => PushbackMode.Ignore,
                    var other => throw new BadInputException($"--pushback must be honour or ignore (got '{other}')"),
                } },
                "--max-lag" => command with { MaxLag = DurationText.Parse(Value(), option) },
                "--threshold" => AddThreshold(command, Threshold.Parse(Value())),
                "--json" => command with { Json = true },
                "--no-live" => command with { NoLive = true },
                "--report" => command with { ReportPath = Value() },
                "--call-log" => command with { CallLogPath = Value() },
                "--admin" => AddAdmin(command, ParseUri(Value(), option)),
                "--interval" => command with { Interval = DurationText.Parse(Value(), option) },
                "--rate-scale" => command with { RateScale = ParseDouble(Value(), option, 0.001, 1000) },
                "--gold-key" or "--silver-key" or "--bronze-key" => Skip(command, Value()),
                "--bulkhead" => command with { Bulkhead = Value() },
                "--host" => command with { HostCommand = Value() },
                "--host-dir" => command with { HostDirectory = Value() },
                "--host-admin" => command with { HostAdmin = ParseUri(Value(), option) },
                "--host-env" => AddEnv(command, Value()),
                "--permits" => command with { Permits = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => ParseInt(p, option, 1, 100_000))] },
                "--permit-key" => command with { PermitKey = Value() },
                "--plot" => command with { PlotPath = Value() },
                _ => throw new BadInputException($"unknown option '{option}' (meshload --help)"),
            };
        }

        if (command.Interval < TimeSpan.FromMilliseconds(100))
        {
            throw new BadInputException("--interval must be at least 100ms");
        }

        return command;
    }

    /// <summary><c>name=payments,key=gold,method=GetBalance,rate=100,deadline=2s</c>.</summary>
    public static StreamSpec ParseStream(string text, TenantKeys keys)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new BadInputException($"stream '{text}': '{part}' is not field=value");
            }

            fields[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        return FromFields(fields, keys, $"stream '{text}'");
    }

    /// <summary>Builds a stream from named fields (command line or scenario file).</summary>
    public static StreamSpec FromFields(IReadOnlyDictionary<string, string> fields, TenantKeys keys, string where)
    {
        string? Get(string name) => fields.TryGetValue(name, out var v) ? v : null;
        var known = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "name", "key", "method", "rate", "concurrency", "deadline", "accounts", "size", "iterations", "criticality", "start", "tenant" };
        var unknown = fields.Keys.FirstOrDefault(k => !known.Contains(k));
        if (unknown is not null)
        {
            throw new BadInputException($"{where}: unknown field '{unknown}' (name key method rate concurrency deadline accounts size iterations criticality start tenant)");
        }

        MeshMethod method;
        try
        {
            method = MeshMethods.Parse(Get("method") ?? throw new BadInputException("method= is required"));
        }
        catch (BadInputException ex)
        {
            throw new BadInputException($"{where}: {ex.Message}");
        }

        var concurrency = Get("concurrency") is { } c ? ParseInt(c, $"{where}: concurrency", 1, 10_000) : 0;
        var rateText = Get("rate");
        if (concurrency == 0 && rateText is null)
        {
            throw new BadInputException($"{where}: rate= (open loop) or concurrency= (closed loop) is required");
        }

        if (concurrency > 0 && rateText is not null)
        {
            throw new BadInputException($"{where}: give rate= (open loop) or concurrency= (closed loop), not both");
        }

        var spec = new StreamSpec
        {
            Name = Get("name") ?? method.ToString().ToLowerInvariant(),
            ApiKey = keys.Resolve(Get("key") ?? "gold"),
            Method = method,
            Rate = rateText is null ? 0 : ParseDouble(rateText.EndsWith("/s", StringComparison.Ordinal) ? rateText[..^2] : rateText, $"{where}: rate", double.Epsilon, 100_000),
            Concurrency = concurrency,
            Deadline = Get("deadline") is { } d ? DurationText.Parse(d, $"{where}: deadline") : DefaultDeadline(method),
            Accounts = Get("accounts") is { } a ? ParseInt(a, $"{where}: accounts", 1, 100) : 10,
            RenderSize = Get("size") is { } s ? ParseInt(s, $"{where}: size", 1, 4096) : 64,
            RenderIterations = Get("iterations") is { } it ? ParseInt(it, $"{where}: iterations", 1, 100_000) : 50,
            Criticality = Get("criticality"),
            TenantId = Get("tenant"),
            StartAfter = Get("start") is { } st ? DurationText.Parse(st, $"{where}: start") : TimeSpan.Zero,
        };
        spec.Validate();
        return spec;
    }

    /// <summary>The mesh's default deadlines (issue 9's table): reads 2 s, charge and reports 5 s, render 10 s.</summary>
    public static TimeSpan DefaultDeadline(MeshMethod method) => method switch
    {
        MeshMethod.GetBalance or MeshMethod.ListPayments => TimeSpan.FromSeconds(2),
        MeshMethod.Render => TimeSpan.FromSeconds(10),
        _ => TimeSpan.FromSeconds(5),
    };

    public static int ParseInt(string text, string what, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new BadInputException($"{what} must be an integer {min}..{max} (got '{text}')");

    public static double ParseDouble(string text, string what, double min, double max) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new BadInputException($"{what} must be a number > 0 and <= {max.ToString(CultureInfo.InvariantCulture)} (got '{text}')");

    internal static Uri ParseUri(string text, string what)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new BadInputException($"{what}: '{text}' is not an http(s) address");
    }

    private static ParsedCommand Add(ParsedCommand command, StreamSpec spec)
    {
        command.Streams.Add(spec);
        return command;
    }

    private static ParsedCommand AddThreshold(ParsedCommand command, Threshold threshold)
    {
        command.Thresholds.Add(threshold);
        return command;
    }

    private static ParsedCommand AddAdmin(ParsedCommand command, Uri admin)
    {
        command.AdminTargets.Add(admin);
        return command;
    }

    private static ParsedCommand AddEnv(ParsedCommand command, string assignment)
    {
        if (assignment.IndexOf('=', StringComparison.Ordinal) <= 0)
        {
            throw new BadInputException($"--host-env '{assignment}' is not NAME=value");
        }

        command.HostEnvironment.Add(assignment);
        return command;
    }

    private static ParsedCommand Skip(ParsedCommand command, string value)
    {
        _ = value;
        return command;
    }
}
