/**
 * The committed sample scenes. Between them they show an object fully hidden by a nearer one for
 * a dozen frames or more before it reappears, objects that leave the frame for good, and objects
 * that enter well after the first frame; shapes and sizes vary and every object has its own hue.
 * @module
 */
import type { Scene } from "./scene.ts";

/** All sample scenes, in generation order. */
export const SAMPLE_SCENES: readonly Scene[] = [
  {
    name: "occlusion",
    description:
      "A blue rounded square overtakes a red disc and hides it completely for a while; " +
      "a yellow ellipse drifts along the top.",
    width: 480,
    height: 270,
    frames: 72,
    fps: 30,
    seed: 1001,
    pan: [1.2, 0.3],
    objects: [
      {
        id: 1,
        label: "red disc",
        hue: 2,
        shape: { kind: "disc", radius: 22 },
        depth: 1,
        start: [150, 150],
        velocity: [1, 0.1],
        sway: { amplitude: [0, 4], period: 48 },
      },
      {
        id: 2,
        label: "blue rounded square",
        hue: 222,
        shape: { kind: "superellipse", rx: 52, ry: 50, power: 4 },
        depth: 2,
        start: [60, 150],
        velocity: [4, 0],
        rotation: { start: 0, perFrame: 0.004 },
      },
      {
        id: 3,
        label: "yellow ellipse",
        hue: 52,
        shape: { kind: "ellipse", rx: 36, ry: 20 },
        depth: 0,
        start: [410, 48],
        velocity: [-1.3, 0.05],
        rotation: { start: 0.3, perFrame: -0.012 },
      },
    ],
    events: [{ kind: "occludedThenReappears", id: 1, minFrames: 12 }],
  },
  {
    name: "exit_enter",
    description: "A magenta rounded triangle leaves through the right edge and stays out; a cyan " +
      "blob enters from the left after about a second; an orange disc sways in the middle.",
    width: 480,
    height: 270,
    frames: 72,
    fps: 30,
    seed: 2002,
    pan: [-0.8, 0.5],
    objects: [
      {
        id: 1,
        label: "magenta rounded triangle",
        hue: 305,
        shape: { kind: "roundedPolygon", sides: 3, radius: 44, cornerRadius: 8 },
        depth: 0,
        start: [320, 95],
        velocity: [3.8, 0.3],
        rotation: { start: 0, perFrame: 0.02 },
      },
      {
        id: 2,
        label: "cyan blob",
        hue: 186,
        shape: {
          kind: "blob",
          radius: 30,
          harmonics: [[2, 0.12, 0.4], [3, 0.08, 1.9], [5, 0.04, 0.7]],
        },
        depth: 1,
        start: [-125, 200],
        velocity: [3, -0.25],
        rotation: { start: 0, perFrame: -0.015 },
      },
      {
        id: 3,
        label: "orange disc",
        hue: 28,
        shape: { kind: "disc", radius: 26 },
        depth: 2,
        start: [240, 165],
        velocity: [0.2, 0],
        sway: { amplitude: [18, 10], period: 60 },
      },
    ],
    events: [
      { kind: "leavesFrame", id: 1 },
      { kind: "entersLate", id: 2, afterFrame: 20 },
    ],
  },
  {
    name: "crossing",
    description:
      "A large purple blob crosses in front of a green ellipse and hides it; a small red " +
      "rounded square drops out through the bottom; a yellow disc comes in from the top late.",
    width: 480,
    height: 270,
    frames: 90,
    fps: 30,
    seed: 3003,
    pan: [0.9, -0.4],
    objects: [
      {
        id: 1,
        label: "green ellipse",
        hue: 125,
        shape: { kind: "ellipse", rx: 28, ry: 17 },
        depth: 0,
        start: [120, 120],
        velocity: [1.2, 0.15],
        rotation: { start: 0.2, perFrame: 0.01 },
      },
      {
        id: 2,
        label: "purple blob",
        hue: 272,
        shape: { kind: "blob", radius: 60, harmonics: [[3, 0.07, 0.5], [4, 0.04, 2.2]] },
        depth: 2,
        start: [440, 128],
        velocity: [-3.9, 0],
        rotation: { start: 0, perFrame: 0.01 },
      },
      {
        id: 3,
        label: "red rounded square",
        hue: 356,
        shape: { kind: "superellipse", rx: 18, ry: 18, power: 4 },
        depth: 1,
        start: [380, 210],
        velocity: [-0.6, 2.2],
        rotation: { start: 0.5, perFrame: 0.03 },
      },
      {
        id: 4,
        label: "yellow disc",
        hue: 50,
        shape: { kind: "disc", radius: 20 },
        depth: 1,
        start: [300, -90],
        velocity: [0.3, 2.1],
        sway: { amplitude: [6, 0], period: 40 },
      },
    ],
    events: [
      { kind: "occludedThenReappears", id: 1, minFrames: 12 },
      { kind: "leavesFrame", id: 3 },
      { kind: "entersLate", id: 4, afterFrame: 20 },
    ],
  },
];
