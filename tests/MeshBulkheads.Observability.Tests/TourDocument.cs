using System.Text.RegularExpressions;

namespace MeshBulkheads.Observability.Tests;

/// <summary>One step of docs/tour.md: its number, and the text of each <c>- **Field**:</c> line.</summary>
internal sealed record TourStep(int Number, string Title, IReadOnlyDictionary<string, string> Fields, string Prose)
{
    public string? Field(string name) => Fields.TryGetValue(name, out var value) ? value : null;

    /// <summary>The backticked spans of a field, in order.</summary>
    public IReadOnlyList<string> Quoted(string name) =>
        [.. TourDocument.Backticked().Matches(Field(name) ?? "").Select(m => m.Groups["text"].Value)];
}

/// <summary>
/// docs/tour.md split into its <c>## Step N — title</c> sections, and docs/tour-rows (the seed's rows the
/// tour must cover: <c>id text</c>, <c>#</c> comments).
/// </summary>
internal static partial class TourDocument
{
    public static IReadOnlyList<TourStep> Steps()
    {
        var steps = new List<TourStep>();
        int? number = null;
        var title = "";
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var prose = new List<string>();

        void Flush()
        {
            if (number is { } n)
            {
                steps.Add(new TourStep(n, title, fields, string.Join('\n', prose).Trim()));
            }
        }

        foreach (var line in File.ReadLines(ObservabilityFiles.TourDoc))
        {
            var heading = StepHeading().Match(line);
            if (heading.Success)
            {
                Flush();
                number = int.Parse(heading.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
                title = heading.Groups["title"].Value;
                fields = new Dictionary<string, string>(StringComparer.Ordinal);
                prose = [];
                continue;
            }

            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                Flush();
                number = null;
                continue;
            }

            var field = FieldLine().Match(line);
            if (number is not null && field.Success)
            {
                fields[field.Groups["name"].Value] = field.Groups["value"].Value;
            }
            else if (number is not null && !line.StartsWith("- ", StringComparison.Ordinal) && !line.StartsWith('<'))
            {
                prose.Add(line);
            }
        }

        Flush();
        return steps;
    }

    /// <summary>The row ids of docs/tour-rows.</summary>
    public static IReadOnlyList<string> RowIds() =>
        [.. File.ReadLines(ObservabilityFiles.TourRows)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2)[0])];

    [GeneratedRegex(@"^## Step (?<n>\d+) — (?<title>.+)$")]
    private static partial Regex StepHeading();

    [GeneratedRegex(@"^- \*\*(?<name>[A-Za-z ]+)\*\*: (?<value>.+)$")]
    private static partial Regex FieldLine();

    [GeneratedRegex("`(?<text>[^`]+)`")]
    internal static partial Regex Backticked();
}
