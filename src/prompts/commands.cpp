#include "prompts/commands.hpp"

#include <ctime>
#include <exception>
#include <ostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "prompts/layout.hpp"
#include "prompts/promote.hpp"

namespace livery::prompts {

namespace {

int exitCodeFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kBadRequest:
    case ErrorCode::kNotFound:
    case ErrorCode::kUnprocessable:
    case ErrorCode::kPayloadTooLarge:
      return kExitBadInput;
    case ErrorCode::kConflict:
      return kExitBelowThreshold;
    default:
      return kExitFailure;
  }
}

int report(std::ostream& out, const Error& e) {
  out << "error: " << e.client_message << "\n";
  return exitCodeFor(e);
}

Result<std::string> readRequired(const GitRepository& repo,
                                 const CommitInfo& head,
                                 const std::string& path,
                                 std::size_t max_bytes,
                                 std::string_view ref) {
  auto content = repo.readFile(head.id, path, max_bytes);
  if (!content) {
    return content.error();
  }
  if (!*content) {
    return fail(
        ErrorCode::kNotFound,
        path + " not found at '" + std::string(ref) + "' (commit " + head.id.substr(0, 7) + ")");
  }
  return std::move(**content);
}

}  // namespace

std::string isoTime(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int syncCommand(const SyncArgs& args,
                PromptVersionStore& store,
                std::ostream& out,
                const CommandLimits& limits) {
  auto repo = GitRepository::open(args.repo_path, limits.repo);
  if (!repo) {
    return report(out, repo.error());
  }
  auto result = syncTenant(*repo, store, args.tenant.id, args.tenant.slug, args.ref, limits.sync);
  if (!result) {
    return report(out, result.error());
  }
  out << "Synced tenant " << args.tenant.slug << " from " << args.ref << " (commit "
      << result->head.id.substr(0, 7) << "): " << result->created.size() << " new version"
      << (result->created.size() == 1 ? "" : "s") << "\n";
  for (const auto& v : result->created) {
    out << "  created v" << v.version << " (" << v.id << ") from " << v.commit_id.substr(0, 7)
        << " by " << v.author << " at " << isoTime(v.created_at) << "\n";
  }
  std::size_t imported = 0;
  for (const auto& s : result->skipped) {
    if (s.reason == SkipReason::kAlreadyImported) {
      ++imported;  // summarised below: a long history would bury the news
      continue;
    }
    out << "  skipped " << s.commit.id.substr(0, 7) << ": " << toString(s.reason);
    if (!s.detail.empty()) {
      out << " " << s.detail;
    }
    out << "\n";
  }
  if (imported > 0) {
    out << "  " << imported << " earlier commit" << (imported == 1 ? " was" : "s were")
        << " already imported\n";
  }
  if (!result->created.empty()) {
    out << "New versions are drafts: `livery prompts eval` then `livery prompts promote` "
           "activates one.\n";
  }
  return kExitOk;
}

Result<EvalSubject> prepareEval(const GitRepository& repo,
                                PromptVersionStore& store,
                                const EvalArgs& args,
                                const CommandLimits& limits) {
  auto paths = tenantPaths(args.tenant.slug);
  if (!paths) {
    return paths.error();
  }
  auto head = repo.resolve(args.ref);
  if (!head) {
    return head.error();
  }
  auto meta_text = readRequired(repo, *head, paths->meta, limits.max_meta_bytes, args.ref);
  if (!meta_text) {
    return meta_text.error();
  }
  auto meta = parsePromptMeta(*meta_text);
  if (!meta) {
    return meta.error();
  }
  auto dataset_text = readRequired(repo, *head, paths->dataset, limits.max_dataset_bytes, args.ref);
  if (!dataset_text) {
    return dataset_text.error();
  }
  auto dataset = parseGoldenDataset(*dataset_text, paths->dataset, limits.dataset);
  if (!dataset) {
    return dataset.error();
  }
  auto versions = store.list(args.tenant.id);
  if (!versions) {
    return versions.error();
  }

  EvalSubject subject;
  subject.tenant_id = args.tenant.id;
  subject.tenant_slug = args.tenant.slug;
  subject.ref = args.ref;
  subject.commit_id = head->id;
  if (!args.version.empty()) {
    auto v = findVersion(*versions, args.version);
    if (!v) {
      return v.error();
    }
    subject.version_id = v->id;
    subject.version = v->version;
    subject.prompt = v->content;
  } else {
    auto prompt = readRequired(repo, *head, paths->prompt, limits.sync.max_prompt_bytes, args.ref);
    if (!prompt) {
      return prompt.error();
    }
    subject.prompt = std::move(*prompt);
    const storage::PromptVersion* match = nullptr;
    for (const auto& v : *versions) {
      if (v.content != subject.prompt) {
        continue;
      }
      bool from_head = v.commit_id == head->id;
      bool match_from_head = match != nullptr && match->commit_id == head->id;
      if (match == nullptr || from_head || (!match_from_head && v.version > match->version)) {
        match = &v;
      }
    }
    if (match != nullptr) {
      subject.version_id = match->id;
      subject.version = match->version;
    }
  }
  subject.meta = std::move(*meta);
  subject.dataset = std::move(*dataset);
  return subject;
}

int evalCommand(const EvalArgs& args,
                PromptVersionStore& store,
                ChatRunner& runner,
                const Clock& clock,
                std::ostream& out,
                const CommandLimits& limits) {
  auto repo = GitRepository::open(args.repo_path, limits.repo);
  if (!repo) {
    return report(out, repo.error());
  }
  auto subject = prepareEval(*repo, store, args, limits);
  if (!subject) {
    return report(out, subject.error());
  }
  std::string version_id = subject->version_id;
  std::int64_t version = subject->version;

  // The ChatRunner's awaitables run on this context, on the calling thread.
  net::io_context ioc;
  EvalRunner eval(runner, clock, limits.eval);
  auto future = net::co_spawn(ioc, eval.run(std::move(*subject)), net::use_future);
  ioc.run();
  Result<EvalReport> result = fail(ErrorCode::kInternal, "the evaluation did not finish");
  try {
    result = future.get();
  } catch (const std::exception&) {
    return report(out, fail(ErrorCode::kInternal, "the evaluation failed with an internal error"));
  }
  if (!result) {
    return report(out, result.error());
  }
  out << renderText(*result);
  if (version_id.empty()) {
    out << "Not recorded: no stored version of " << args.tenant.slug
        << " has this content (run `livery prompts sync` first).\n";
  } else {
    auto recorded = store.recordEval(args.tenant.id, version_id, toJson(*result), result->passed);
    if (!recorded) {
      return report(out, recorded.error());
    }
    out << "Recorded with v" << version << " (" << version_id << ").\n";
  }
  return result->passed ? kExitOk : kExitBelowThreshold;
}

int promoteCommand(const PromoteArgs& args,
                   PromptVersionStore& store,
                   std::ostream& out,
                   const CommandLimits& /*limits*/) {
  auto result = promoteVersion(store, args.tenant.id, args.version);
  if (!result) {
    return report(out, result.error());
  }
  const auto& v = result->version;
  if (result->already_active) {
    out << "v" << v.version << " (" << v.id << ") is already the active prompt of "
        << args.tenant.slug << ".\n";
    return kExitOk;
  }
  out << "Promoted v" << v.version << " (" << v.id << ") to the active prompt of "
      << args.tenant.slug;
  if (result->previous) {
    out << " (was v" << result->previous->version << ")";
  }
  out << ".\n";
  return kExitOk;
}

}  // namespace livery::prompts
