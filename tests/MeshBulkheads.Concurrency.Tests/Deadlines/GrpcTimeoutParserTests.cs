using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Concurrency.Tests.Deadlines;

public sealed class GrpcTimeoutParserTests
{
    public static TheoryData<string, long> ValidValues => new()
    {
        { "1H", TimeSpan.TicksPerHour },
        { "2M", 2 * TimeSpan.TicksPerMinute },
        { "3S", 3 * TimeSpan.TicksPerSecond },
        { "500m", 500 * TimeSpan.TicksPerMillisecond },
        { "250u", 250 * TimeSpan.TicksPerMicrosecond },
        { "1n", 1 },
        { "1000n", 10 },
        { "99999999S", 99_999_999 * TimeSpan.TicksPerSecond },
        { "99999999H", 99_999_999 * TimeSpan.TicksPerHour },
    };

    [Theory]
    [MemberData(nameof(ValidValues))]
    public void Parse_ValidUnits_ReturnsTimeout(string value, long expectedTicks)
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(value, out var timeout);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.Valid, result);
        Assert.Equal(expectedTicks, timeout.Ticks);
    }

    [Theory]
    [InlineData("0S")]
    [InlineData("0m")]
    [InlineData("00000000n")]
    [InlineData("-1S")]
    [InlineData("-500m")]
    public void Parse_ZeroOrNegative_ReturnsNonPositive(string value)
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(value, out _);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.NonPositive, result);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("100")]
    [InlineData("100s")]
    [InlineData("100x")]
    [InlineData("123456789S")]
    [InlineData("1.5S")]
    [InlineData(" 1S")]
    [InlineData("1 S")]
    [InlineData("abc")]
    [InlineData("-")]
    [InlineData("+1S")]
    public void Parse_Garbage_ReturnsMalformed(string value)
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(value, out _);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.Malformed, result);
    }

    [Fact]
    public void Parse_Null_ReturnsAbsent()
    {
        // Arrange / Act
        var result = GrpcTimeoutParser.Parse(null, out var timeout);

        // Assert
        Assert.Equal(GrpcTimeoutParseResult.Absent, result);
        Assert.Equal(TimeSpan.Zero, timeout);
    }
}
