// SPDX-License-Identifier: MIT
// Safetensors header validation: parses the JSON header (rejecting duplicate keys, which
// nlohmann would silently resolve) and checks every entry's dtype, shape and data_offsets and
// the "__metadata__" object, so a damaged or hostile header ends in a FormatError naming the
// file and the tensor or field.
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/io/safetensors_detail.h"
#include "core/util/error.h"

namespace attn::st::st_detail {

using ReaderJson = nlohmann::json;

/// How deep the header's JSON may nest; real headers need 3 levels.
constexpr std::size_t kReaderMaxDepth = 32;

/// A JSON value as a short string for error messages.
std::string reader_json_text(const ReaderJson& value) {
  std::string text = value.dump(-1, ' ', false, ReaderJson::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

/// Printable ASCII of `text`, at most `max` bytes, for quoting parser messages.
std::string reader_printable(const std::string& text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return text.size() > max ? out + "..." : out;
}

/// Watches the parser's events and rejects duplicate keys, which nlohmann would silently
/// resolve to the last value, and nesting deeper than kReaderMaxDepth.
class ReaderKeyTracker {
 public:
  explicit ReaderKeyTracker(const std::string& label) : label_(label) {}

  bool on_event(ReaderJson::parse_event_t event, const ReaderJson& parsed) {
    using Event = ReaderJson::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      if (frames_.size() >= kReaderMaxDepth) {
        throw FormatError(label_ + ": header nests deeper than " +
                          std::to_string(kReaderMaxDepth) +
                          " levels; a safetensors header needs 3");
      }
      std::string name = frames_.empty() ? "" : frames_.back().last_key;
      frames_.push_back({event == Event::object_start, std::move(name), "", {}});
    } else if (event == Event::object_end || event == Event::array_end) {
      frames_.pop_back();
    } else if (event == Event::key && !frames_.empty()) {
      on_key(parsed.get<std::string>());
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::string name;
    std::string last_key;
    std::set<std::string> keys;
  };

  void on_key(const std::string& key) {
    Frame& top = frames_.back();
    if (!top.keys.insert(key).second) {
      std::string where;
      if (frames_.size() == 1) {
        where = "duplicate tensor name '" + key + "' in the header";
      } else if (frames_.size() == 2 && top.name == "__metadata__") {
        where = "\"__metadata__\": duplicate key '" + key + "'";
      } else if (frames_.size() == 2) {
        where = "tensor '" + top.name + "': duplicate field '" + key + "'";
      } else {
        where = "duplicate key '" + key + "' inside '" + top.name + "'";
      }
      throw FormatError(label_ + ": " + where + "; every key must appear once");
    }
    top.last_key = key;
  }

  const std::string& label_;
  std::vector<Frame> frames_;
};

/// Parses the header bytes into JSON; errors give the parser's byte position.
ReaderJson reader_parse_header(const uint8_t* first, const uint8_t* last,
                               const std::string& label) {
  ReaderKeyTracker tracker(label);
  ReaderJson::parser_callback_t callback = [&tracker](int, ReaderJson::parse_event_t event,
                                                      ReaderJson& parsed) {
    return tracker.on_event(event, parsed);
  };
  try {
    return ReaderJson::parse(first, last, callback, /*allow_exceptions=*/true,
                             /*ignore_comments=*/false);
  } catch (const ReaderJson::parse_error& e) {
    throw FormatError(label + ": header is not valid UTF-8 JSON: the parser stopped at byte " +
                      std::to_string(e.byte) + " of the " + std::to_string(last - first) +
                      "-byte header (file offset " + std::to_string(7 + e.byte) + "): " +
                      reader_printable(e.what(), 240));
  } catch (const ReaderJson::exception& e) {  // e.g. a number too large for a double
    throw FormatError(label + ": header is not usable JSON: " + reader_printable(e.what(), 240));
  }
}

/// A JSON integer >= 0 (floats, negatives and strings are not).
bool reader_json_uint(const ReaderJson& value, uint64_t* out) {
  if (value.is_number_unsigned()) {
    *out = value.get<uint64_t>();
    return true;
  }
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(value.get<int64_t>());
    return true;
  }
  return false;
}

/// Fails with "<label>: tensor '<name>': <what>".
[[noreturn]] void reader_entry_fail(const std::string& label, const std::string& name,
                                    const std::string& what) {
  throw FormatError(label + ": tensor '" + name + "': " + what);
}

DType reader_entry_dtype(const std::string& label, const std::string& name,
                         const ReaderJson& value) {
  DType dtype = DType::F32;
  if (!value.is_string() || !dtype_from_name(value.get_ref<const std::string&>(), &dtype)) {
    reader_entry_fail(label, name, "unknown dtype " + reader_json_text(value) +
                                       " (known: " + known_dtype_names() + ")");
  }
  return dtype;
}

std::vector<int64_t> reader_entry_shape(const std::string& label, const std::string& name,
                                        const ReaderJson& value, const Limits& limits) {
  if (!value.is_array()) {
    reader_entry_fail(label, name, "shape " + reader_json_text(value) +
                                       " is not an array of non-negative integers");
  }
  if (value.size() > limits.max_rank) {
    reader_entry_fail(label, name, "shape has rank " + std::to_string(value.size()) +
                                       ", over the limit of " + std::to_string(limits.max_rank) +
                                       " (Limits::max_rank)");
  }
  std::vector<int64_t> shape;
  for (const ReaderJson& dim : value) {
    uint64_t size = 0;
    if (!reader_json_uint(dim, &size) ||
        size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      reader_entry_fail(label, name, "shape " + reader_json_text(value) + " has entry " +
                                         reader_json_text(dim) +
                                         "; each must be an integer in [0, 2^63)");
    }
    shape.push_back(static_cast<int64_t>(size));
  }
  return shape;
}

void reader_entry_offsets(const std::string& label, const std::string& name,
                          const ReaderJson& value, TensorInfo* info) {
  if (!value.is_array() || value.size() != 2 || !reader_json_uint(value[0], &info->begin) ||
      !reader_json_uint(value[1], &info->end)) {
    reader_entry_fail(label, name, "data_offsets " + reader_json_text(value) +
                                       " must be two non-negative integers [begin, end]");
  }
  if (info->begin > info->end) {
    reader_entry_fail(label, name, "data_offsets " + reader_json_text(value) +
                                       " have begin > end");
  }
}

/// One tensor entry: exactly the fields dtype, shape and data_offsets, consistent with each
/// other and inside the data section of `data_bytes` bytes.
TensorInfo reader_entry(const std::string& label, const std::string& name,
                        const ReaderJson& entry, const Limits& limits, uint64_t data_bytes) {
  if (!entry.is_object()) {
    reader_entry_fail(label, name, "entry is " + reader_json_text(entry) +
                                       ", expected an object {dtype, shape, data_offsets}");
  }
  for (const auto& field : entry.items()) {
    if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets") {
      reader_entry_fail(label, name, "unknown field '" + field.key() +
                                         "' (allowed: dtype, shape, data_offsets)");
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) {
      reader_entry_fail(label, name, "missing field '" + std::string(field) + "'");
    }
  }
  TensorInfo info;
  info.name = name;
  info.dtype = reader_entry_dtype(label, name, entry["dtype"]);
  info.shape = reader_entry_shape(label, name, entry["shape"], limits);
  reader_entry_offsets(label, name, entry["data_offsets"], &info);
  const std::string offsets = "data_offsets [" + std::to_string(info.begin) + ", " +
                              std::to_string(info.end) + "]";
  uint64_t nbytes = 0;
  if (!checked_nbytes(info.dtype, info.shape, &nbytes)) {
    reader_entry_fail(label, name, "shape " + shape_text(info.shape) + " of " +
                                       dtype_name(info.dtype) + " needs more than 2^64 bytes");
  }
  if (info.end > data_bytes) {
    reader_entry_fail(label, name, offsets + " reach beyond the end of the " +
                                       std::to_string(data_bytes) + "-byte data section");
  }
  if (info.end - info.begin != nbytes) {
    reader_entry_fail(label, name, offsets + " do not match shape " + shape_text(info.shape) +
                                       " of " + dtype_name(info.dtype) + " (" +
                                       std::to_string(nbytes) + " bytes)");
  }
  return info;
}

std::map<std::string, std::string> reader_metadata(const std::string& label,
                                                   const ReaderJson& value) {
  if (!value.is_object()) {
    throw FormatError(label + ": \"__metadata__\" is " + reader_json_text(value) +
                      ", expected an object of string values");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& item : value.items()) {
    if (!item.value().is_string()) {
      throw FormatError(label + ": \"__metadata__\": value of '" + item.key() + "' is " +
                        reader_json_text(item.value()) + ", expected a string");
    }
    metadata[item.key()] = item.value().get<std::string>();
  }
  return metadata;
}

HeaderContents parse_header(const uint8_t* first, const uint8_t* last, const std::string& label,
                            const Limits& limits, uint64_t data_bytes) {
  const ReaderJson header = reader_parse_header(first, last, label);
  if (!header.is_object()) {
    throw FormatError(label + ": header is a JSON " + std::string(header.type_name()) +
                      ", expected an object mapping tensor names to "
                      "{dtype, shape, data_offsets}");
  }
  const uint64_t count = header.size() - (header.contains("__metadata__") ? 1 : 0);
  if (count > limits.max_tensors) {
    throw FormatError(label + ": header lists " + std::to_string(count) +
                      " tensors, over the limit of " + std::to_string(limits.max_tensors) +
                      " (Limits::max_tensors)");
  }
  HeaderContents contents;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      contents.metadata = reader_metadata(label, item.value());
    } else {
      contents.tensors.push_back(reader_entry(label, item.key(), item.value(), limits, data_bytes));
    }
  }
  return contents;
}

}  // namespace attn::st::st_detail
