using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MeshBulkheads.ServiceDefaults.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.ServiceDefaults.Tests.Hosting;

/// <summary>
/// Admin writes (docs/security.md, "Admin token"): the token is checked before the body is parsed — no or a wrong
/// token 401, writes not configured 403, then the endpoint's own 400 — and only on the admin listener.
/// </summary>
public sealed class AdminWriteTests
{
    private const string Token = "0123456789abcdef0123456789abcdef-admin";

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("Bearer wrong-token-of-the-same-length-as-the-real-one", HttpStatusCode.Unauthorized)]
    [InlineData("Basic " + Token, HttpStatusCode.Unauthorized)]
    [InlineData("Bearer " + Token, HttpStatusCode.BadRequest)]
    public async Task Put_MalformedBody_TokenCheckedBeforeTheBodyIsParsed(string? authorization, HttpStatusCode expected)
    {
        // Arrange
        var (host, parsed) = await StartAsync(Token);
        await using var _ = host;
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await PutAsync(admin, "{not json", authorization);

        // Assert
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(0, parsed.Count);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Put_RightToken_ServedAndTheTokenIdIsNotTheToken()
    {
        // Arrange
        var (host, parsed) = await StartAsync(Token);
        await using var _ = host;
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await PutAsync(admin, """{"value":42}""", "Bearer " + Token);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, parsed.Count);
        Assert.Equal(AdminWriteEndpoints.IdOf(Token), body);
        Assert.Equal(12, body.Length);
        Assert.DoesNotContain(body, Token, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_NoTokenConfigured_ForbiddenWhateverIsSent()
    {
        // Arrange
        var (host, parsed) = await StartAsync(token: null);
        await using var _ = host;
        using var admin = host.CreateAdminClient();

        // Act
        using var response = await PutAsync(admin, """{"value":42}""", "Bearer " + Token);

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, parsed.Count);
    }

    [Fact]
    public async Task Start_ShortToken_FailsWithoutShowingIt()
    {
        // Act
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync("short-token"));

        // Assert
        Assert.Contains("Mesh:Admin:Token has 11 characters: use at least 32", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-token", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(KestrelHost Host, Counter Parsed)> StartAsync(string? token)
    {
        var parsed = new Counter();
        var host = await new FakePaymentsHost().StartAsync(
            builder =>
            {
                if (token is not null)
                {
                    builder.Configuration["Mesh:Admin:Token"] = token;
                }
            },
            app => app.MapPut("/test-write", (Payload payload, HttpContext context) =>
            {
                Interlocked.Increment(ref parsed.Count);
                return AdminWriteEndpoints.TokenId(context);
            }).RequireAdminToken());
        return (host, parsed);
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient admin, string json, string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/test-write") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (authorization is not null)
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        return admin.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private sealed record Payload(int Value);

    private sealed class Counter
    {
        public int Count;
    }
}
