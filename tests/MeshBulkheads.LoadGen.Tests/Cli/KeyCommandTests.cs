using System.Security.Cryptography;
using System.Text;
using MeshBulkheads.Contracts.Identity;
using MeshBulkheads.LoadGen.Cli;
using Spectre.Console.Testing;

namespace MeshBulkheads.LoadGen.Tests.Cli;

/// <summary><c>meshload key-hash</c> / <c>key-new</c>: an API key's stored form, the key read from the environment or stdin only.</summary>
public sealed class KeyCommandTests
{
    private const string Key = "0123456789abcdefghijABCDEFGHIJ-_xyz";

    [Fact]
    public async Task KeyHash_KeyOnStandardInput_PrintsSha256OfItsUtf8Bytes()
    {
        // Arrange
        var (io, output, _) = Io(stdin: Key + "\n");

        // Act
        var exit = await MeshLoadApp.RunAsync(["key-hash"], io, TestContext.Current.CancellationToken);

        // Assert: an independent computation of the documented format.
        Assert.Equal(ExitCodes.Pass, exit);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key))), output.ToString().Trim());
    }

    [Fact]
    public async Task KeyHash_KeyInEnvironment_PrintsItsHashNotTheKey()
    {
        // Arrange
        var (io, output, _) = Io(environment: new Dictionary<string, string> { [KeyCommand.KeyVariable] = Key });

        // Act
        var exit = await MeshLoadApp.RunAsync(["key-hash"], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit);
        Assert.Equal(ApiKeyHash.Format(Key), output.ToString().Trim());
        Assert.DoesNotContain(Key, output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short-key-12", "the key has 12 characters; a Production gateway needs at least 32")]
    [InlineData("", "reads the key from MESH_API_KEY or the first line of standard input")]
    public async Task KeyHash_ShortOrMissingKey_Exit3WithoutTheKey(string key, string expected)
    {
        // Arrange
        var (io, output, error) = Io(stdin: key + "\n");

        // Act
        var exit = await MeshLoadApp.RunAsync(["key-hash"], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
        if (key.Length > 0)
        {
            Assert.DoesNotContain(key, error.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task KeyHash_KeyAsArgument_RefusedSoItNeverSitsInTheProcessList()
    {
        // Arrange
        var (io, output, error) = Io();

        // Act
        var exit = await MeshLoadApp.RunAsync(["key-hash", Key], io, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("these commands take no arguments", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task KeyNew_TwoRuns_DifferentLongAlphanumericKeysWithTheirHashes()
    {
        // Arrange
        var (io1, output1, _) = Io();
        var (io2, output2, _) = Io();

        // Act
        var exit1 = await MeshLoadApp.RunAsync(["key-new"], io1, TestContext.Current.CancellationToken);
        var exit2 = await MeshLoadApp.RunAsync(["key-new"], io2, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(ExitCodes.Pass, exit1);
        Assert.Equal(ExitCodes.Pass, exit2);
        var (key1, hash1) = Parse(output1.ToString());
        var (key2, _) = Parse(output2.ToString());
        Assert.NotEqual(key1, key2);
        Assert.Equal(32, key1.Length);
        Assert.All(key1, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
        Assert.Equal(ApiKeyHash.Format(key1), hash1);
    }

    private static (string Key, string Hash) Parse(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("key: ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("hash: ", lines[1], StringComparison.Ordinal);
        return (lines[0]["key: ".Length..], lines[1]["hash: ".Length..]);
    }

    private static (MeshLoadIo Io, StringWriter Out, StringWriter Error) Io(string stdin = "", Dictionary<string, string>? environment = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        environment ??= [];
        return (new MeshLoadIo(new TestConsole(), output, error, TimeProvider.System, name => environment.GetValueOrDefault(name), Interactive: false, new StringReader(stdin)), output, error);
    }
}
