using System.Globalization;

namespace MeshBulkheads.LoadGen.Cli;

/// <summary>Durations as people type them: <c>250ms</c>, <c>10s</c>, <c>1.5s</c>, <c>2m</c>, <c>100us</c>.</summary>
internal static class DurationText
{
    public static TimeSpan Parse(string text, string what)
    {
        var trimmed = text.Trim();
        var (number, scale) = trimmed switch
        {
            _ when trimmed.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (trimmed[..^2], 1e-3),
            _ when trimmed.EndsWith("us", StringComparison.OrdinalIgnoreCase) => (trimmed[..^2], 1e-6),
            _ when trimmed.EndsWith('s') => (trimmed[..^1], 1.0),
            _ when trimmed.EndsWith('m') => (trimmed[..^1], 60.0),
            _ when trimmed.EndsWith('h') => (trimmed[..^1], 3600.0),
            _ => (trimmed, double.NaN),
        };
        if (double.IsNaN(scale))
        {
            throw new BadInputException($"{what}: '{text}' needs a unit (us, ms, s, m, h), e.g. 250ms or 10s");
        }

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < 0)
        {
            throw new BadInputException($"{what}: '{text}' is not a duration, e.g. 250ms or 10s");
        }

        return TimeSpan.FromTicks((long)Math.Round(value * scale * TimeSpan.TicksPerSecond));
    }

    public static string Format(TimeSpan value) => value.TotalSeconds >= 1
        ? value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
        : value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}
