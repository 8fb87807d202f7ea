using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Tests.Deadlines;

public sealed class GrpcTimeoutFormatterTests
{
    public static TheoryData<long, string> Values => new()
    {
        { 1 * TimeSpan.TicksPerMicrosecond, "1u" },
        { (1 * TimeSpan.TicksPerMicrosecond) + 9, "1u" },
        { 1_500 * TimeSpan.TicksPerMillisecond, "1500000u" },
        { 99_999_999 * TimeSpan.TicksPerMicrosecond, "99999999u" },
        // One microsecond more no longer fits in 8 digits: milliseconds, rounded down.
        { 100_000_000 * TimeSpan.TicksPerMicrosecond, "100000m" },
        { (100_000_000 * TimeSpan.TicksPerMicrosecond) + 9_999, "100000m" },
        { 99_999_999 * TimeSpan.TicksPerMillisecond, "99999999m" },
        { 100_000_000 * TimeSpan.TicksPerMillisecond, "100000S" },
        { TimeSpan.MaxValue.Ticks, "99999999S" },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void Format_Timeout_FinestUnitWithinEightDigitsRoundedDown(long ticks, string expected)
    {
        // Arrange
        var timeout = TimeSpan.FromTicks(ticks);

        // Act
        var value = GrpcTimeoutFormatter.Format(timeout);

        // Assert
        Assert.Equal(expected, value);
        Assert.InRange(value!.Length - 1, 1, GrpcTimeoutParser.MaxDigits);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(-TimeSpan.TicksPerSecond)]
    public void Format_LessThanOneMicrosecond_ReturnsNull(long ticks)
    {
        // Arrange / Act
        var value = GrpcTimeoutFormatter.Format(TimeSpan.FromTicks(ticks));

        // Assert
        Assert.Null(value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1_234_567_891)]
    [InlineData(987_654_321_012)]
    public void Format_ThenParse_NeverGivesMoreTime(long ticks)
    {
        // Arrange
        var timeout = TimeSpan.FromTicks(ticks * 10);

        // Act
        var result = GrpcTimeoutParser.Parse(GrpcTimeoutFormatter.Format(timeout), out var parsed);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.Valid, result);
        Assert.True(parsed <= timeout, $"{parsed} > {timeout}");
    }
}
