using System.Net;
using System.Text.Json;
using LowLatency.Tests.Infrastructure;

namespace LowLatency.Tests.EndToEnd;

[Collection(ServerCollection.Name)]
public sealed class MetadataTests(ServerFixture server)
{
    [Fact]
    public async Task Server_metadata_names_the_server()
    {
        using var doc = await GetJsonAsync("/v2", HttpStatusCode.OK);
        Assert.Equal("lowlatency", doc.RootElement.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("version").GetString()));
        // Triton's names for what the server implements: the repository API, the request's priority and
        // timeout, and the model configuration.
        Assert.Equal(["model_repository", "schedule_policy", "model_configuration", "binary_tensor_data", "statistics"], doc.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Health_endpoints_report_live_and_ready()
    {
        using var live = await GetJsonAsync("/v2/health/live", HttpStatusCode.OK);
        Assert.True(live.RootElement.GetProperty("live").GetBoolean());
        using var ready = await GetJsonAsync("/v2/health/ready", HttpStatusCode.OK);
        Assert.True(ready.RootElement.GetProperty("ready").GetBoolean());
    }

    [Theory]
    [InlineData("/v2/models/ctr-ranker")]
    [InlineData("/v2/models/ctr-ranker/versions/1")]
    public async Task Model_metadata_describes_inputs_and_outputs_with_the_batch_dimension(string path)
    {
        using var doc = await GetJsonAsync(path, HttpStatusCode.OK);
        var root = doc.RootElement;
        Assert.Equal("ctr-ranker", root.GetProperty("name").GetString());
        Assert.Equal("pytorch_libtorch", root.GetProperty("platform").GetString());
        Assert.Equal(["1"], root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        var inputs = root.GetProperty("inputs").EnumerateArray().ToList();
        Assert.Equal("sparse", inputs[0].GetProperty("name").GetString());
        Assert.Equal("INT64", inputs[0].GetProperty("datatype").GetString());
        Assert.Equal([-1L, 26L], inputs[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal("dense", inputs[1].GetProperty("name").GetString());
        Assert.Equal("FP32", inputs[1].GetProperty("datatype").GetString());
        var output = root.GetProperty("outputs")[0];
        Assert.Equal("probability", output.GetProperty("name").GetString());
        Assert.Equal([-1L, 1L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Theory]
    [InlineData("/v2/models/ctr-ranker/config")]
    [InlineData("/v2/models/ctr-ranker/versions/1/config")]
    public async Task Model_configuration_is_the_document_the_version_was_loaded_with(string path)
    {
        using var doc = await GetJsonAsync(path, HttpStatusCode.OK);
        var root = doc.RootElement;
        Assert.Equal("ctr-ranker", root.GetProperty("name").GetString());
        Assert.Equal(64, root.GetProperty("max_batch_size").GetInt32());
        Assert.Equal("TYPE_INT64", root.GetProperty("input")[0].GetProperty("data_type").GetString());
        Assert.Equal([8, 16, 32], root.GetProperty("dynamic_batching").GetProperty("preferred_batch_size").EnumerateArray().Select(d => d.GetInt32()));
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Models, "ctr-ranker", "config.json")));
        Assert.Equal(JsonSerializer.Serialize(file.RootElement), JsonSerializer.Serialize(root));
    }

    [Fact]
    public async Task Text_encoder_metadata_shows_variable_dimensions()
    {
        using var doc = await GetJsonAsync("/v2/models/text-encoder", HttpStatusCode.OK);
        Assert.Equal([-1L, -1L], doc.RootElement.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Theory]
    [InlineData("/v2/models/image-classifier/ready", HttpStatusCode.OK)]
    [InlineData("/v2/models/image-classifier/versions/1/ready", HttpStatusCode.OK)]
    [InlineData("/v2/models/image-classifier/versions/2/ready", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/nope/ready", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/nope", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/nope/config", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/ctr-ranker/versions/2/config", HttpStatusCode.NotFound)]
    [InlineData("/v2/models/ctr-ranker/versions/0", HttpStatusCode.BadRequest)]
    public async Task Model_readiness_and_unknown_models(string path, HttpStatusCode status)
    {
        using var doc = await GetJsonAsync(path, status);
        if (status == HttpStatusCode.OK)
        {
            Assert.True(doc.RootElement.GetProperty("ready").GetBoolean());
        }
        else
        {
            Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("error").GetString()));
        }
    }

    private async Task<JsonDocument> GetJsonAsync(string path, HttpStatusCode status)
    {
        using var response = await server.Client.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
    }
}
