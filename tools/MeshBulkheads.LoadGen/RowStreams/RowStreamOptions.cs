using MeshBulkheads.LoadGen.Cli;

namespace MeshBulkheads.LoadGen.RowStreams;

/// <summary>
/// <c>meshload stream</c>'s options: how many <c>RenderRows</c> streams, how big their rows, and how slowly each is read.
/// </summary>
internal sealed record RowStreamOptions
{
    public const string Usage = """
        meshload stream: RenderRows streams through the gateway, read slowly, to see the producer wait (backpressure).

          meshload stream [--count 2] [--read-delay 20ms] [--width 1024] [--height 256] [--iterations 50]
                          [--deadline 30s] [--key gold] [--target http://127.0.0.1:8080] [--ca-file ca.crt] [--admin http://127.0.0.1:9083] [--json]

        Prints rows/s per stream and in total, how long the client waited for each row, and render's own figure for how
        long its row writes waited for the consumer (meshbulkheads_render_stream_write_wait_seconds, scraped from
        --admin before and after). Exit 0 when every stream ended OK, 1 otherwise, 3 on bad input.
        """;

    public Uri Target { get; init; } = new("http://127.0.0.1:8080");

    /// <summary><c>--ca-file FILE</c>: check an <c>https://</c> target's certificate against this CA (PEM) only.</summary>
    public string? CaFile { get; init; }

    /// <summary>Render's admin address, whose <c>/metrics</c> has the write-wait histogram.</summary>
    public Uri Admin { get; init; } = new("http://127.0.0.1:9083");

    public int Count { get; init; } = 2;

    /// <summary>How long the consumer waits after each row before reading the next.</summary>
    public TimeSpan ReadDelay { get; init; }

    public int Width { get; init; } = 1024;

    public int Height { get; init; } = 256;

    public int Iterations { get; init; } = 50;

    /// <summary>Sent as <c>grpc-timeout</c>; the mesh clamps it to RenderRows' maximum (60 s).</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);

    public string ApiKey { get; init; } = string.Empty;

    public bool Json { get; init; }

    public bool Help { get; init; }

    /// <summary>Parses the arguments after <c>stream</c>; every mistake is a <see cref="BadInputException"/>.</summary>
    public static RowStreamOptions Parse(IReadOnlyList<string> args, TenantKeys keys)
    {
        var options = new RowStreamOptions { ApiKey = keys.Gold };
        for (var i = 0; i < args.Count; i++)
        {
            var option = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new BadInputException($"{option} needs a value");
            options = option switch
            {
                "-h" or "--help" => options with { Help = true },
                "--target" => options with { Target = CommandLine.ParseUri(Value(), option) },
                "--ca-file" => options with { CaFile = Value() },
                "--admin" => options with { Admin = CommandLine.ParseUri(Value(), option) },
                "--count" => options with { Count = CommandLine.ParseInt(Value(), option, 1, 64) },
                "--read-delay" => options with { ReadDelay = DurationText.Parse(Value(), option) },
                "--width" => options with { Width = CommandLine.ParseInt(Value(), option, 1, 16384) },
                "--height" => options with { Height = CommandLine.ParseInt(Value(), option, 1, 16384) },
                "--iterations" => options with { Iterations = CommandLine.ParseInt(Value(), option, 1, 1_000_000) },
                "--deadline" => options with { Deadline = DurationText.Parse(Value(), option) },
                "--key" => options with { ApiKey = keys.Resolve(Value()) },
                "--json" => options with { Json = true },
                _ => throw new BadInputException($"unknown option '{option}' for stream (meshload stream --help)"),
            };
        }

        if (options.ReadDelay > TimeSpan.FromSeconds(10))
        {
            throw new BadInputException("--read-delay must be at most 10s");
        }

        if (options.Deadline <= TimeSpan.Zero)
        {
            throw new BadInputException("--deadline must be positive");
        }

        return options;
    }
}
