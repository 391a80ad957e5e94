/** Claims: a paper's result made part of the graph, checked at run time. */
export { slope } from './slope.js';
export { monotone } from './monotone.js';
export { less, close, between } from './compare.js';
