/**
 * The metric and data operators of the training family (issue 7), exported for registration:
 * metric.accuracy, metric.crossing, metric.last, data.teacher_student, data.sinusoid, data.modular, data.split, data.mnist, data.sphere, data.circle, data.shortcut, data.icl_linear.
 */
export { accuracy } from './metric/accuracy.js';
export { crossing } from './metric/crossing.js';
export { last } from './metric/last.js';
export { teacherStudent } from './data/teacher_student.js';
export { sinusoid } from './data/sinusoid.js';
export { modular } from './data/modular.js';
export { split } from './data/split.js';
export { mnist } from './data/mnist.js';
export { sphere } from './data/sphere.js';
export { circle } from './data/circle.js';
export { shortcut } from './data/shortcut.js';
export { iclLinear } from './data/icl_linear.js';
