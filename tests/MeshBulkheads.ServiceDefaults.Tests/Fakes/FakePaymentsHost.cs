using MeshBulkheads.ServiceDefaults.Grpc;
using Google.Protobuf;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;

namespace MeshBulkheads.ServiceDefaults.Tests.Fakes;

/// <summary>
/// A small gRPC host on the shared defaults serving a fake <c>PaymentsService</c> (real Kestrel,
/// 127.0.0.1 port 0), counting the calls its handler and an interceptor saw.
/// </summary>
internal sealed class FakePaymentsHost
{
    public const string ServiceName = "meshbulkheads.payments.v1.PaymentsService";

    public FakePaymentsCounters Counters { get; } = new();

    /// <summary>A unary method on an arbitrary path (any spelling), built from the contract's messages.</summary>
    public static Method<GetBalanceRequest, GetBalanceResponse> GetBalanceAt(string service, string method) => new(
        MethodType.Unary,
        service,
        method,
        Marshallers.Create(r => r.ToByteArray(), GetBalanceRequest.Parser.ParseFrom),
        Marshallers.Create(r => r.ToByteArray(), GetBalanceResponse.Parser.ParseFrom));

    public Task<KestrelHost> StartAsync(Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? configureApp = null) =>
        KestrelHost.StartAsync((args, hostConfigure) =>
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.AddServiceDefaults("fake-payments", 0, 0);
            builder.Services.AddSingleton(Counters);
            builder.Services.AddGrpc(o => o.AddMeshMetricsInterceptor().Interceptors.Add<CountingInterceptor>());
            hostConfigure?.Invoke(builder);
            configure?.Invoke(builder);
            var app = builder.Build();
            configureApp?.Invoke(app);
            app.MapDefaultEndpoints();
            app.MapGrpcService<FakePaymentsService>();
            return app;
        });

    internal sealed class FakePaymentsCounters
    {
        private int _handled;
        private int _intercepted;

        public int Handled => Volatile.Read(ref _handled);

        public int Intercepted => Volatile.Read(ref _intercepted);

        /// <summary>Both counts at once: <c>(0, 0)</c> for a call refused before any interceptor ran.</summary>
        public (int Intercepted, int Handled) InterceptedAndHandled => (Intercepted, Handled);

        public void OnHandled() => Interlocked.Increment(ref _handled);

        public void OnIntercepted() => Interlocked.Increment(ref _intercepted);
    }

    internal sealed class FakePaymentsService(FakePaymentsCounters counters) : PaymentsService.PaymentsServiceBase
    {
        public override Task<GetBalanceResponse> GetBalance(GetBalanceRequest request, ServerCallContext context)
        {
            counters.OnHandled();
            return Task.FromResult(new GetBalanceResponse { AccountId = request.AccountId, BalanceMinor = 42, Currency = "USD" });
        }
    }

    private sealed class CountingInterceptor(FakePaymentsCounters counters) : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            counters.OnIntercepted();
            return continuation(request, context);
        }
    }
}
