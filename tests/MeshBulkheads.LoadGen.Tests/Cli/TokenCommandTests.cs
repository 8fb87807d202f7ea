using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.LoadGen.Cli;
using Microsoft.Extensions.Time.Testing;
using Spectre.Console.Testing;

namespace MeshBulkheads.LoadGen.Tests.Cli;

/// <summary><c>meshload token</c>: the token a direct call needs, signed with the key from the environment only.</summary>
public sealed class TokenCommandTests
{
    private static readonly string PaymentsKey = MeshIdentityToken.NewKey();
    private static readonly string ReportingKey = MeshIdentityToken.NewKey();
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Token_GetBalance_VerifiesAtPaymentsForItsMethodTenantAndTtl()
    {
        // Arrange
        var (io, output, _) = Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["token", "--method", "GetBalance", "--tenant", "globex", "--ttl", "30s"], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        var token = output.ToString().Trim();
        var keys = new Dictionary<string, byte[]> { ["dev"] = Convert.FromBase64String(PaymentsKey) };
        const string Method = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";
        Assert.Equal(MeshIdentityTokenResult.Valid, MeshIdentityToken.Verify(token, keys, "payments", Method, Now.AddSeconds(29), out var claims));
        Assert.Equal("globex", claims!.Tenant);
        Assert.Equal(MeshIdentityTokenResult.Expired, MeshIdentityToken.Verify(token, keys, "payments", Method, Now.AddSeconds(30), out _));
    }

    [Fact]
    public async Task Token_BuildReportDelegation_ForPaymentsGetBalanceSignedWithPaymentsKey()
    {
        // Arrange
        var (io, output, _) = Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["token", "--method", "BuildReport", "--delegation"], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        var keys = new Dictionary<string, byte[]> { ["dev"] = Convert.FromBase64String(PaymentsKey) };
        Assert.Equal(
            MeshIdentityTokenResult.Valid,
            MeshIdentityToken.Verify(output.ToString().Trim(), keys, "payments", "/meshbulkheads.payments.v1.PaymentsService/GetBalance", Now, out var claims));
        Assert.Equal("reporting", claims!.Actor);
    }

    [Theory]
    [InlineData(new[] { "token", "--method", "Render" }, "MESH_IDENTITY_KEY_RENDER is not set")]
    [InlineData(new[] { "token" }, "meshload token needs --method")]
    [InlineData(new[] { "token", "--method", "GetBalance", "--ttl", "48h" }, "--ttl must be between")]
    [InlineData(new[] { "token", "--method", "GetBalance", "--delegation" }, "--delegation is only for BuildReport")]
    [InlineData(new[] { "token", "--method", "GetBalance", "--key-id", "Dev!" }, "--key-id 'Dev!' must be")]
    public async Task Token_BadInput_Exit3WithOneLine(string[] args, string expected)
    {
        // Arrange
        var (io, output, error) = Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(args, io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    private static (MeshLoadIo Io, StringWriter Out, StringWriter Error) Io()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new Dictionary<string, string>
        {
            [TokenCommand.KeyVariable("payments")] = PaymentsKey,
            [TokenCommand.KeyVariable("reporting")] = ReportingKey,
        };
        return (new MeshLoadIo(new TestConsole(), output, error, new FakeTimeProvider(Now), name => environment.GetValueOrDefault(name), Interactive: false), output, error);
    }
}
