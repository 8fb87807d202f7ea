namespace MeshBulkheads.LoadGen;

/// <summary>meshload's exit codes (documented in README.md; the chaos experiments and the demo branch on them).</summary>
internal static class ExitCodes
{
    /// <summary>The run completed and every threshold held.</summary>
    public const int Pass = 0;

    /// <summary>At least one threshold failed; each failed threshold is named on stderr.</summary>
    public const int ThresholdFailed = 1;

    /// <summary>The generator's own scheduling lag made the schedule slip: the numbers do not describe the target.</summary>
    public const int InvalidRun = 2;

    /// <summary>Bad input: arguments, scenario, method, thresholds, unreachable gateway, a refused key.</summary>
    public const int BadInput = 3;
}

/// <summary>Input that makes a run impossible; reported as one line and <see cref="ExitCodes.BadInput"/>.</summary>
internal sealed class BadInputException(string message) : Exception(message);
