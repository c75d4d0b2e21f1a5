/**
 * `breakfix view`: a local dashboard over the workspace store (runs, rounds, attack records and findings with
 * filters and full-text search, conversations, compare, training curves) with human review of judgements.
 */
export { toCsv, toJsonl } from "./csv.ts";
export { type AttackFilter, type AttackRow, filterFromQuery, listAttacks } from "./queries.ts";
export {
  addReview,
  latestReviews,
  REVIEW_LABELS,
  type ReviewInput,
  rejectedFindingIds,
  reviewedFindings,
  reviewsOf,
} from "./reviews.ts";
export { CSP, createViewApp, startView, type ViewAppOptions, type ViewOptions, type ViewServer } from "./server.ts";
